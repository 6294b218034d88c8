package io.layerscope.hub;

import io.layerscope.LayerscopeException;
import io.layerscope.model.HfCache;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * One repository on the Hub: its kind and its id ({@code org/name}, or a bare {@code name} for
 * the few legacy repos without an organisation), validated with huggingface_hub's rules.
 *
 * <pre>{@code
 * HubRepo repo = new HubRepo(RepoType.MODEL, "meta-llama/Llama-3.2-1B");
 * repo.folderName();                           // "models--meta-llama--Llama-3.2-1B"
 * repo.resolvePath("main", "config.json");     // "/meta-llama/Llama-3.2-1B/resolve/main/config.json"
 * }</pre>
 */
public record HubRepo(RepoType type, String id) {

    // huggingface_hub's REPO_ID_REGEX: optional namespace, each part starts and ends with a word character.
    private static final String PART = "[A-Za-z0-9_](?:[A-Za-z0-9_.\\-]*[A-Za-z0-9_])?";
    private static final Pattern ID = Pattern.compile("(?:" + PART + "/)?" + PART);
    private static final int MAX_LENGTH = 96;

    public HubRepo {
        if (type == null) {
            throw new IllegalArgumentException("repo type is null");
        }
        if (id == null || !ID.matcher(id).matches() || id.contains("--") || id.contains("..")
                || id.length() > MAX_LENGTH) {
            throw new LayerscopeException("\"" + id + "\" is not a Hugging Face " + type.label()
                    + " repo id: expected org/name such as meta-llama/Llama-3.2-1B (letters, digits, '-', '_', '.',"
                    + " no '--' or '..', at most " + MAX_LENGTH + " characters)");
        }
    }

    /** The repo's folder in the cache, e.g. {@code models--meta-llama--Llama-3.2-1B}. */
    public String folderName() {
        return HfCache.repoFolder(type.plural(), id);
    }

    /** Path (from the endpoint) of one file at one revision, percent-encoded as hf_hub_url does. */
    public String resolvePath(String revision, String file) {
        return "/" + type.urlPrefix() + id + "/resolve/" + quote(revision, "") + "/" + quote(file, "/");
    }

    /** Path (from the endpoint) of the API call that gives a revision's commit sha and file list. */
    public String revisionApiPath(String revision) {
        return "/api/" + type.plural() + "/" + id + "/revision/" + quote(revision, "");
    }

    /** Path (from the endpoint) of the repo's web page, where gated repos show their licence. */
    public String pagePath() {
        return "/" + type.urlPrefix() + id;
    }

    /** "model meta-llama/Llama-3.2-1B", for messages. */
    public String describe() {
        return type.label() + " " + id;
    }

    /** Python's urllib.parse.quote: UTF-8 bytes, letters, digits and "_.-~" plus {@code safe} kept. */
    static String quote(String text, String safe) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "_.-~".indexOf(c) >= 0 || safe.indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
