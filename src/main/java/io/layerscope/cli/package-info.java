/** The command line (picocli): sweep, layer, query, the two listings and completion; turns errors into one paragraph and an exit status. */
package io.layerscope.cli;
