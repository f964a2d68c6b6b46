vcl 4.1;
# Varnish in front of carethread: readers' thread pages are kept for a few seconds and shared by
# everyone; nothing else is kept, and nobody signed in is ever answered from the cache.
#
# carethread decides what may be shared (see "Shared caches" in the README): a public thread page
# says `Cache-Control: public, max-age=0, s-maxage=N, stale-while-revalidate=…` with an ETag and
# `Vary: Cookie`; everything else says `private, no-store`. This file adds three rules of its own:
#
# 1. A request carrying the staff session cookie goes straight to carethread (pass): it is never
#    answered from the cache, and what it gets is never stored.
# 2. Other cookies mean nothing to a thread page (the page is the same for everyone), so they are
#    dropped from those requests: every reader then shares one copy despite `Vary: Cookie`.
# 3. Only answers marked `public` are kept, whatever Varnish's defaults would do.
#
# With CARETHREAD_PURGE_URL=http://127.0.0.1:6081/ (this Varnish), carethread sends
# `BAN /` with `X-Carethread-Ban: <article slug>` when an article's thread changes, and its pages
# are dropped at once. Only the addresses in `purgers` may ban.
#
# bench/cache.sh runs Varnish with this file in front of two carethread processes; it replaces the
# two backend addresses below with its own.

import directors;

backend app1 {
    .host = "127.0.0.1";
    .port = "3001";
    .probe = { .url = "/healthz"; .interval = 2s; .timeout = 1s; .window = 3; .threshold = 2; }
}

backend app2 {
    .host = "127.0.0.1";
    .port = "3002";
    .probe = { .url = "/healthz"; .interval = 2s; .timeout = 1s; .window = 3; .threshold = 2; }
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new apps = directors.round_robin();
    apps.add_backend(app1);
    apps.add_backend(app2);
}

sub vcl_recv {
    set req.backend_hint = apps.backend();

    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        # Slugs are lower-case letters, digits and hyphens: safe inside the expression.
        if (req.http.X-Carethread-Ban !~ "^[a-z0-9-]+$") {
            return (synth(400, "X-Carethread-Ban must be an article's short name"));
        }
        ban("obj.http.X-Carethread-Url ~ ^/(embed/)?articles/" + req.http.X-Carethread-Ban + "([?]|$)");
        return (synth(200, "Banned"));
    }

    # 1. Signed-in staff: never from the cache, never into it.
    if (req.http.Cookie ~ "(^|;)\s*carethread_session=") {
        return (pass);
    }

    # 2. A thread page is the same for every reader: no cookie changes it.
    if ((req.method == "GET" || req.method == "HEAD") && req.url ~ "^/(embed/)?articles/[^/?]+([?]|$)") {
        unset req.http.Cookie;
    }
}

sub vcl_backend_response {
    # Kept with each object so a ban can name an article's pages without the request (lurker-friendly).
    set beresp.http.X-Carethread-Url = bereq.url;

    # 3. Only what carethread marked public is kept. The rest is passed on, and remembered as
    #    uncacheable for a moment so requests for it are not queued behind one another.
    if (beresp.http.Cache-Control !~ "(^|,)\s*public") {
        set beresp.uncacheable = true;
        set beresp.ttl = 10s;
        return (deliver);
    }
    # s-maxage sets the TTL and stale-while-revalidate the grace (Varnish reads both). Keep an
    # expired copy a little longer so it can be revalidated with If-None-Match (a 304 from
    # carethread costs no rendering).
    set beresp.keep = 30s;
}

sub vcl_deliver {
    unset resp.http.X-Carethread-Url;
    # For the benchmark and for operators: whether the cache answered.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
}
