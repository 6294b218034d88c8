/** The command line (picocli): sweep, layer, query and the two listings; turns errors into one paragraph and an exit status. */
package io.layerscope.cli;
