import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;

/**
 * Helpers for scripts/demo.sh, run as a single-file Java program so the demo needs nothing
 * beyond the JDK: `freeport` prints a free port below the ephemeral range; `serve FILE` runs a small line service
 * on a free loopback port (written to FILE) that answers each line with "service got: LINE".
 */
public class DemoService {
    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("freeport")) {
            // Below Linux's ephemeral range (32768 and up): a port the system hands out for port 0
            // (the demo's own service, any outgoing connection) can then never take it first.
            java.util.Random r = new java.util.Random();
            for (int i = 0; i < 200; i++) {
                int port = 20000 + r.nextInt(12000);
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new java.net.InetSocketAddress(port));
                    System.out.println(port);
                    return;
                } catch (java.io.IOException taken) {
                    // Try another.
                }
            }
            System.err.println("DemoService: no free port found in 20000-31999");
            System.exit(1);
        }
        if (args.length != 2 || !args[0].equals("serve")) {
            System.err.println("usage: DemoService freeport | serve PORTFILE");
            System.exit(2);
        }
        try (ServerSocket server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress())) {
            Files.writeString(Path.of(args[1]), server.getLocalPort() + "\n");
            while (true) {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> answer(s));
            }
        }
    }

    private static void answer(Socket s) {
        try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             Writer out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write("service got: " + line + "\n");
                out.flush();
            }
        } catch (IOException e) {
            // The demo client hung up.
        }
    }
}
