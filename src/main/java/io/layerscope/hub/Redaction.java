package io.layerscope.hub;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of what layerscope prints. A URL may carry a user name and password
 * ({@code HF_ENDPOINT=http://user:pass@mirror}) and a signed CDN link carries its signature in the
 * query: messages show {@code http://***@mirror/path}, never either. The token never enters a message
 * in the first place ({@link HubSettings#token()} is package-private); this is the net under
 * everything else, applied to whole messages, progress lines and stack traces before they are printed.
 *
 * <pre>{@code
 * Redaction.userInfo("cannot reach http://me:pw@hub.local/api")   // "cannot reach http://***@hub.local/api"
 * }</pre>
 */
public final class Redaction {
    /** scheme://userinfo@ : userinfo cannot hold '/', '?', '#' or '@' (those are percent-encoded in it). */
    private static final Pattern USER_INFO = Pattern.compile("\\b([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\\s\"'<>]+@");

    private Redaction() {
    }

    /** {@code text} with the user info of every URL in it replaced by {@code ***}. */
    public static String userInfo(String text) {
        return text == null ? null : USER_INFO.matcher(text).replaceAll("$1***@");
    }

    /** Scheme, host, port and path of {@code uri}: no query, no fragment, user info as {@code ***}. */
    static String url(URI uri) {
        String user = uri.getRawUserInfo() == null ? "" : "***@";
        String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
        return uri.getScheme() + "://" + user + uri.getHost() + port + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }
}
