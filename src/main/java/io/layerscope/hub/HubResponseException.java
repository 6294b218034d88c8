package io.layerscope.hub;

import io.layerscope.LayerscopeException;

/**
 * The Hub answered with an error status. Carries what the caller needs to decide between failing
 * and falling back to the cache; the message is already one the user can act on.
 */
final class HubResponseException extends LayerscopeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String errorCode;
    private final String commit;

    HubResponseException(String message, int status, String errorCode, String commit) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
        this.commit = commit;
    }

    int status() {
        return status;
    }

    /** The Hub's X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound) or "". */
    String errorCode() {
        return errorCode;
    }

    /** X-Repo-Commit of the error response, or null (the Hub sends it with EntryNotFound). */
    String commit() {
        return commit;
    }

    /** A file or revision that does not exist: asking again or using an older cache would not help. */
    boolean isDefinitive() {
        return errorCode.equals("EntryNotFound") || errorCode.equals("RevisionNotFound")
                || (status == 404 && !errorCode.equals("RepoNotFound"));
    }
}
