/**
 * One plain relay hop in a process of its own, for the echo floor of section 2: a tunnel's two
 * relays are two processes, and on the bench host a hand-off between processes costs more than
 * one between threads of a process. {@code java bench/src/RelayProcess.java LISTEN_PORT TARGET_PORT}
 * relays 127.0.0.1:LISTEN_PORT to TARGET_PORT with {@link Relay}'s blocking copies until killed.
 */
final class RelayProcess {
    private RelayProcess() {
    }

    public static void main(String[] args) throws Exception {
        new Relay(Integer.parseInt(args[0]), Integer.parseInt(args[1]), 0);
        Thread.sleep(Long.MAX_VALUE); // the relay's threads are daemons: main keeps the process up
    }
}
