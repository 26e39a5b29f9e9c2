package rtunnel.common.v2;

/** What a side does with a {@link Mux}'s stream events. */
public interface MuxListener {
    /** The peer opened a stream (dynamic side): attach a socket or reset. Runs on its own thread. */
    default void opened(Mux mux, MuxStream stream) {
        stream.abort(true);
    }

    /** A stream ended in both directions, or was reset. */
    default void streamClosed(Mux mux, MuxStream stream) {
    }

    /** The peer asked for no new streams on this link. */
    default void goAway(Mux mux) {
    }

    /** The link ended; every stream on it is gone. */
    default void linkClosed(Mux mux, String why) {
    }
}
