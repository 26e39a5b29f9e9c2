package rtunnel.common.protocol;

/** Makes peer-supplied text safe to print on one line of a log or a listing. */
public final class Printable {
    private Printable() {
    }

    /** Replaces control characters, spaces and anything outside printable ASCII or letters with '?'. */
    public static String of(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean ok = cp > 0x20 && cp != 0x7f && (cp < 0x80 || Character.isLetterOrDigit(cp));
            b.appendCodePoint(ok ? cp : '?');
            i += Character.charCount(cp);
        }
        return b.toString();
    }

    /** Like {@link #of(String)} but keeps spaces: for messages rather than names. */
    public static String text(String s) {
        java.util.StringJoiner j = new java.util.StringJoiner(" ");
        for (String word : s.split(" ", -1)) {
            j.add(of(word));
        }
        return j.toString();
    }
}
