package rtunnel.common.cli;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --config=FILE}: {@code name = value} lines whose names are the long options (with or
 * without the dashes; {@code #} starts a comment). The values become the options' defaults, so
 * anything on the command line wins. An unknown name is an error naming the file, line and name.
 * Control options (one-shot requests to a running server) do not belong in a config file.
 */
public final class ConfigFile implements IDefaultValueProvider {
    private static final List<String> NOT_IN_FILE = List.of("--config", "--help", "--version");

    private final Map<String, String> values;

    private ConfigFile(Map<String, String> values) {
        this.values = values;
    }

    /** The value given by {@code --config=X} or {@code --config X}, or null. */
    static String pathIn(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--config=")) {
                return args[i].substring("--config=".length());
            }
            if (args[i].equals("--config") && i + 1 < args.length) {
                return args[i + 1];
            }
            if (args[i].equals("--")) {
                break;
            }
        }
        return null;
    }

    static ConfigFile load(Path file, CommandSpec spec) throws RtunnelException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw RtunnelException.usage("--config " + file + ": no such file");
        } catch (IOException e) {
            throw RtunnelException.usage("--config " + file + ": " + e.getMessage());
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "--config " + file + " line " + (i + 1);
            int eq = line.indexOf('=');
            String key = (eq < 0 ? line : line.substring(0, eq)).strip();
            String value = eq < 0 ? "true" : line.substring(eq + 1).strip();
            String name = key.startsWith("--") ? key : "--" + key;
            OptionSpec o = spec.findOption(name);
            if (o == null || NOT_IN_FILE.contains(name) || isRequest(o)) {
                throw RtunnelException.usage(where + ": '" + key + "' is not an option that can be set in a config file");
            }
            if (values.put(o.longestName(), value) != null) {
                throw RtunnelException.usage(where + ": '" + key + "' is set twice");
            }
        }
        return new ConfigFile(values);
    }

    /** Options bound to methods are control requests, not settings. */
    private static boolean isRequest(OptionSpec o) {
        return o.userObject() instanceof Method;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        return arg instanceof OptionSpec o ? values.get(o.longestName()) : null;
    }
}
