package io.layerscope;

/**
 * A failure the user can act on: bad input, a missing file, an unsupported model. The message is
 * one paragraph that names the offending thing (file, tensor, option, value) and, where possible,
 * what to do about it. The command line prints it without a stack trace and exits non-zero.
 */
public class LayerscopeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LayerscopeException(String message) {
        super(message);
    }

    public LayerscopeException(String message, Throwable cause) {
        super(message, cause);
    }
}
