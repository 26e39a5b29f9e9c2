package rtunnel.dynamic;

/** How one tunnel link ended, which decides how soon to dial again. */
enum LinkOutcome {
    /** TCP connect failed or timed out. */
    CONNECT_FAILED(false),
    /** The server closed or misbehaved before or right after authentication. */
    REFUSED(false),
    /** A client session ran and ended; v1 needs a new link (and port) for the next one. */
    SESSION_ENDED(true),
    /** The local service could not be reached when a client came. */
    LOCAL_FAILED(false),
    /** The link was up and then closed or went silent. */
    LINK_LOST(true),
    /** The alarm asked for a fresh link. */
    ALARM(true),
    /** The program is stopping. */
    STOPPED(true);

    private final boolean healthy;

    LinkOutcome(boolean healthy) {
        this.healthy = healthy;
    }

    /** A healthy outcome resets the back-off; the next dial follows at once. */
    boolean healthy() {
        return healthy;
    }
}
