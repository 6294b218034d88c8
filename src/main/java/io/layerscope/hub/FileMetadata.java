package io.layerscope.hub;

import java.net.URI;

/**
 * What a HEAD request on a file's resolve URL tells, as huggingface_hub reads it: the commit the
 * revision points to ({@code X-Repo-Commit}), the etag that names the blob ({@code X-Linked-Etag},
 * else {@code ETag}, quotes and {@code W/} removed; a sha256 for LFS files), the size
 * ({@code X-Linked-Size}, else {@code Content-Length}) and where to GET the bytes (the redirect
 * target for LFS files, usually a CDN host).
 */
record FileMetadata(String file, String commit, String etag, long size, URI location) {

    /** huggingface_hub's _normalize_etag: {@code etag.lstrip("W/").strip('"')}. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        int start = 0;
        while (start < etag.length() && (etag.charAt(start) == 'W' || etag.charAt(start) == '/')) {
            start++;
        }
        int end = etag.length();
        while (start < end && etag.charAt(start) == '"') {
            start++;
        }
        while (end > start && etag.charAt(end - 1) == '"') {
            end--;
        }
        return etag.substring(start, end);
    }
}
