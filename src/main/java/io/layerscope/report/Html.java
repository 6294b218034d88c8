package io.layerscope.report;

import java.nio.charset.StandardCharsets;

/**
 * Text into HTML: escaping for text and attribute values, percent-encoding for relative links, and
 * fragment identifiers from names. The output is also well-formed XML (only the five predefined
 * entities are used), so a test can parse the page with any XML parser.
 */
final class Html {
    private Html() {
    }

    /** {@code s} as HTML text or a double- or single-quoted attribute value. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * A relative path ('/'-separated) as a URL path: every byte outside RFC 3986's unreserved
     * characters is percent-encoded per segment, so a layer name with spaces, '#' or '?' still links to
     * its file. The result still needs {@link #escape} inside an attribute (it is unchanged by it).
     */
    static String path(String relative) {
        StringBuilder b = new StringBuilder(relative.length() + 16);
        for (byte x : relative.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xFF;
            if (c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return b.toString();
    }

    /** An id attribute value from a name: letters, digits, '.', '_' and '-' kept, anything else '_'. */
    static String id(String prefix, String name) {
        return prefix + name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
