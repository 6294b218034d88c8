package io.layerscope.hub;

import java.util.List;

/** A revision as the Hub API describes it: its commit sha and the paths of all its files. */
record RepoListing(String commit, List<String> files) {
}
