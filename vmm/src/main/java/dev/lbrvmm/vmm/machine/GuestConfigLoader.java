package dev.lbrvmm.vmm.machine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a HOCON guest config: the file (with its includes and {@code ${?ENV}} substitutions),
 * then {@code -o key=value} overrides on top, then reference.conf defaults below. Rejects unknown
 * keys, wrong types and out-of-range values with the file, line and key in the message.
 */
public final class GuestConfigLoader {
    private GuestConfigLoader() {}

    /**
     * @param file      the config file, or null to use only defaults and overrides
     * @param overrides {@code key=value} strings from the command line
     */
    public static GuestConfig load(Path file, List<String> overrides) throws GuestConfigException {
        try {
            Config user = ConfigFactory.empty();
            if (file != null) {
                if (!Files.isRegularFile(file)) {
                    throw new GuestConfigException("config file " + file + " does not exist or is not a file");
                }
                ConfigParseOptions opts = ConfigParseOptions.defaults().setAllowMissing(false)
                        .setSyntax(file.toString().endsWith(".json") ? ConfigSyntax.JSON : ConfigSyntax.CONF);
                ConfigNesting.check(readText(file), file.toString());
                try {
                    // A bare name has no parent folder, and Typesafe Config then finds no relative include: say "./name".
                    Path parseable = file.getParent() == null ? Path.of(".").resolve(file) : file;
                    user = ConfigFactory.parseFile(parseable.toFile(), opts);
                } catch (ConfigException.IO e) {
                    throw new GuestConfigException(missingInclude(file, e));
                }
            }
            for (int i = overrides.size() - 1; i >= 0; i--) {
                user = parseOverride(overrides.get(i)).withFallback(user);
            }
            Config reference = ConfigFactory.defaultReference();
            checkKeys(user.root(), reference.root(), "");
            Config c = user.withFallback(reference).resolve();
            return GuestConfig.from(new ConfigReader(c), file);
        } catch (ConfigException e) {
            throw new GuestConfigException(e.getMessage());
        } catch (StackOverflowError e) { // an included file nested too deeply (the files we read are checked first)
            throw new GuestConfigException((file == null ? "the config" : file + " or a file it includes")
                    + ": objects and lists nest too deeply for the config parser (more than " + ConfigNesting.MAX_DEPTH + " levels?)");
        }
    }

    private static String readText(Path file) throws GuestConfigException {
        try {
            return Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            return ""; // not UTF-8: the parser reports it with a line
        } catch (java.io.IOException e) {
            throw new GuestConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    /**
     * A file or include that cannot be read. Typesafe Config names only the missing file; find the
     * include line that asked for it.
     */
    private static String missingInclude(Path file, ConfigException.IO e) {
        String msg = e.getMessage();
        int colon = msg.indexOf(": ");
        String name = colon > 0 ? msg.substring(0, colon) : "";
        List<String> lines;
        try {
            lines = name.isEmpty() ? List.of() : Files.readAllLines(file);
        } catch (java.io.IOException | java.io.UncheckedIOException ex) {
            lines = List.of();
        }
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.contains("include") && l.contains(name)) {
                Path dir = file.toAbsolutePath().getParent();
                return file + ":" + (i + 1) + ": included file '" + name + "' was not found"
                        + (dir == null || name.startsWith("/") ? "" : " (relative names are looked up in " + dir + ")");
            }
        }
        return file + ": " + msg.replace("java.io.FileNotFoundException: ", "").replace("java.io.IOException: ", "");
    }

    /** Parses one {@code -o key=value}: the value as HOCON, or as a plain string when it is not one. */
    static Config parseOverride(String arg) throws GuestConfigException {
        int eq = arg.indexOf('=');
        if (eq <= 0) {
            throw new GuestConfigException("-o " + arg + ": expected key=value, e.g. -o guest.vcpus=2");
        }
        String key = arg.substring(0, eq).trim();
        String text = arg.substring(eq + 1).trim();
        try {
            ConfigUtil.splitPath(key);
        } catch (ConfigException e) {
            throw new GuestConfigException("-o " + arg + ": '" + key + "' is not a valid key path");
        }
        ConfigOrigin origin = ConfigOriginFactory.newSimple("-o " + arg);
        ConfigNesting.check(text, "-o " + key);
        ConfigValue value = null;
        if (!text.contains("//") && !text.contains("#")) {
            try {
                value = ConfigFactory.parseString("v = " + text).root().get("v");
            } catch (ConfigException e) {
                value = null;
            }
        }
        if (value == null) {
            value = ConfigValueFactory.fromAnyRef(text);
        }
        return ConfigFactory.empty().withValue(key, value.withOrigin(origin));
    }

    private static void checkKeys(ConfigObject user, ConfigObject ref, String prefix) throws GuestConfigException {
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            String path = prefix.isEmpty() ? ConfigUtil.joinPath(e.getKey()) : prefix + "." + ConfigUtil.joinPath(e.getKey());
            if (path.equals(GuestSection.MSRS)) {
                continue; // free-form: MSR names and numbers, checked when read
            }
            ConfigValue r = ref.get(e.getKey());
            if (r == null) {
                throw new GuestConfigException(ConfigReader.where(e.getValue()) + ": unknown key '" + path + "'" + suggest(e.getKey(), ref, prefix));
            }
            if (r instanceof ConfigObject ro && e.getValue() instanceof ConfigObject uo) {
                checkKeys(uo, ro, path);
            }
        }
    }

    private static String suggest(String key, ConfigObject ref, String prefix) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : ref.keySet()) {
            int d = distance(key, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        String valid = ref.keySet().stream().sorted()
                .map(k -> prefix.isEmpty() ? k : prefix + "." + k).collect(Collectors.joining(", "));
        String did = best != null && bestD <= 3 ? " (did you mean '" + (prefix.isEmpty() ? best : prefix + "." + best) + "'?)" : "";
        return did + "; valid keys here: " + valid;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
