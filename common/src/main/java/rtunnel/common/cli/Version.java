package rtunnel.common.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code --version}: the program name and the project version stamped in at build time. */
public final class Version implements IVersionProvider {
    @Spec
    CommandSpec spec;

    public static String number() {
        try (InputStream in = Version.class.getResourceAsStream("/rtunnel/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {spec.name() + " " + number() + " (reversetunnel for Java; protocols 1 and 2)",
            "Java " + Runtime.version() + " " + System.getProperty("java.vm.name", "")};
    }
}
