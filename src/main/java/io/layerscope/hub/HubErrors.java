package io.layerscope.hub;

import io.layerscope.model.HfCache;
import java.net.URI;
import java.net.http.HttpHeaders;

/**
 * Turns the Hub's error answers into messages a person can act on. The Hub explains itself in
 * {@code X-Error-Code} (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound) and
 * {@code X-Error-Message}; a private or missing repo answers 401 so as not to reveal which it is.
 * No message ever contains the token or a signed URL's query.
 */
final class HubErrors {

    private final HubSettings settings;

    HubErrors(HubSettings settings) {
        this.settings = settings;
    }

    /**
     * @param file the file asked for, or null for the revision API
     */
    HubResponseException forStatus(int status, HttpHeaders headers, URI uri, HubRepo repo, String revision,
            String file) {
        String code = headers.firstValue("X-Error-Code").orElse("");
        String commit = headers.firstValue("X-Repo-Commit").orElse(null);
        return new HubResponseException(message(status, code, headers, uri, repo, revision, file), status, code,
                commit);
    }

    private String message(int status, String code, HttpHeaders headers, URI uri, HubRepo repo, String revision,
            String file) {
        String what = file == null ? "revision " + revision : file;
        String page = settings.endpointForMessages() + repo.pagePath();
        if (!HubHttp.sameOrigin(uri, settings.endpoint())) {
            // the CDN behind a redirect: its signed link is short-lived, and it knows nothing of repos
            return "the download server " + Redaction.url(uri) + " answered HTTP " + status + " for " + what + " of "
                    + repo.describe() + (status == 403 || status == 410 ? " (its signed link may have expired)" : "")
                    + "; run again to get a fresh link, and if it persists check any proxy between here and it.";
        }
        if (code.equals("RevisionNotFound")) {
            return "revision \"" + revision + "\" does not exist in " + repo.describe()
                    + ": use a branch, tag or full commit sha of that repo (the default is main).";
        }
        if (code.equals("GatedRepo") || (file != null && (status == 401 || status == 403) && !code.equals("RepoNotFound"))) {
            if (!settings.hasToken()) {
                return repo.describe() + " is gated: the Hub refused " + what + " (HTTP " + status
                        + ") because no token was sent. Accept the licence at " + page
                        + " while logged in, create a read token at " + settings.endpointForMessages()
                        + "/settings/tokens and set HF_TOKEN to it (or run `hf auth login`, which writes the token"
                        + " file $HF_HOME/token).";
            }
            return repo.describe() + " is gated: the Hub refused " + what + " (HTTP " + status
                    + ") for the token from " + settings.tokenSource() + ". Accept the licence at " + page
                    + " with the account that owns this token (access to some repos is granted by hand and takes a"
                    + " while), or set HF_TOKEN to a token of an account that has access.";
        }
        if (code.equals("RepoNotFound") || (file == null && (status == 401 || status == 403 || status == 404))) {
            return repo.describe() + " was not found at " + settings.endpointForMessages() + " (HTTP " + status
                    + "): check the repo id" + (repo.type() == RepoType.MODEL ? " (e.g. meta-llama/Llama-3.2-1B)" : "")
                    + ", or, if it is private, set HF_TOKEN to a token with access to it"
                    + (settings.hasToken() ? " (the token from " + settings.tokenSource() + " was sent)" : "") + ".";
        }
        if (code.equals("EntryNotFound") || status == 404) {
            String at = HfCache.isCommit(revision) ? "commit " + revision : "revision " + revision;
            return "file " + file + " does not exist in " + repo.describe() + " at " + at
                    + " (HTTP " + status + "); see " + page + "/tree/" + HubRepo.quote(revision, "") + " for its files.";
        }
        if (status == 429) {
            return "the Hub is limiting the rate of requests (HTTP 429) while fetching " + what + " of "
                    + repo.describe() + ": wait a few minutes and retry; requests with a token (HF_TOKEN) get a higher limit.";
        }
        if (status >= 500) {
            return "the Hub answered HTTP " + status + " for " + what + " of " + repo.describe() + " at "
                    + Redaction.url(uri) + ": it may be down or overloaded; retry later, or set HF_HUB_OFFLINE=1 to use"
                    + " only what the cache at " + settings.cacheDir() + " already has.";
        }
        String said = headers.firstValue("X-Error-Message").map(m -> " (" + m + ")").orElse("");
        return "unexpected HTTP " + status + said + " from " + Redaction.url(uri) + " while fetching " + what + " of "
                + repo.describe() + "; check HF_ENDPOINT (" + settings.endpointForMessages() + ") and any proxy between here and it.";
    }
}
