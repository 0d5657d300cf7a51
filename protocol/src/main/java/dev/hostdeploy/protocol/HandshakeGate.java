package dev.hostdeploy.protocol;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The connections that have not finished the WebSocket upgrade yet, as sshd's MaxStartups and
 * LoginGraceTime bound them: at most {@code maxPending} in all and {@code maxPerAddress} from one
 * address, each for at most {@code timeoutNanos}. A new connection is always admitted and an older
 * pending one (of its address when that address is at its limit, else of all) is dropped for it: the
 * oldest of those that got least far ({@link Stage}). A flood, even from the Manager's own address, then
 * only ever pushes out idle connections before any that is mid-handshake, and a Manager that connects
 * during it gets in. Thread-safe; the caller closes what it is handed back.
 *
 * @param <C> the connection type (the agent's WebSocket; anything in tests)
 */
final class HandshakeGate<C> {
    /** How far a pending connection got; the lower, the sooner it is dropped for a newcomer. */
    enum Stage {
        /** Accepted; nothing or only part of a ClientHello received (free for a flood to reach). */
        ACCEPTED,
        /** The agent has answered its ClientHello (the flood must get the agent to do a key exchange). */
        TLS,
        /** TLS done, so its certificate is trusted: only the WebSocket upgrade is left. */
        AUTHENTICATED
    }

    private static final class Entry {
        final InetAddress address;
        final long since;
        Stage stage = Stage.ACCEPTED;

        Entry(InetAddress address, long since) {
            this.address = address;
            this.since = since;
        }
    }

    private final int maxPending;
    private final int maxPerAddress;
    private final long timeoutNanos;
    /** Insertion order is age order: the first is the oldest. At most maxPending, so scans are short. */
    private final LinkedHashMap<C, Entry> pending = new LinkedHashMap<>();
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();

    HandshakeGate(int maxPending, int maxPerAddress, long timeoutNanos) {
        if (maxPending < 1 || maxPerAddress < 1 || timeoutNanos <= 0) {
            throw new IllegalArgumentException("pending limits must be at least 1 and the timeout positive");
        }
        this.maxPending = maxPending;
        this.maxPerAddress = Math.min(maxPerAddress, maxPending);
        this.timeoutNanos = timeoutNanos;
    }

    /** Admits a new connection; returns the older ones it displaced, to be closed. */
    synchronized List<C> admit(C conn, InetAddress address, long nowNanos) {
        List<C> evicted = new ArrayList<>(1);
        C victim = null;
        if (perAddress.getOrDefault(address, 0) >= maxPerAddress) {
            victim = leastAdvanced(address);
        } else if (pending.size() >= maxPending) {
            victim = leastAdvanced(null);
        }
        if (victim != null) {
            remove(victim);
            evicted.add(victim);
        }
        pending.put(conn, new Entry(address, nowNanos));
        perAddress.merge(address, 1, Integer::sum);
        return evicted;
    }

    /** The oldest pending connection of the lowest stage (from {@code address} when it is not null). */
    private C leastAdvanced(InetAddress address) {
        C best = null;
        Stage bestStage = null;
        for (Map.Entry<C, Entry> e : pending.entrySet()) {
            Entry v = e.getValue();
            if (address != null && !address.equals(v.address)) {
                continue;
            }
            if (bestStage == null || v.stage.compareTo(bestStage) < 0) {
                best = e.getKey();
                bestStage = v.stage;
                if (bestStage == Stage.ACCEPTED) {
                    break; // age order: none older is lower
                }
            }
        }
        return best;
    }

    /** Records that a pending connection got further (never backwards). */
    synchronized void advance(C conn, Stage stage) {
        Entry e = pending.get(conn);
        if (e != null && stage.compareTo(e.stage) > 0) {
            e.stage = stage;
        }
    }

    /** The connection finished its upgrade or closed: it no longer counts. */
    synchronized void done(C conn) {
        remove(conn);
    }

    /** Removes and returns the connections pending for longer than the timeout. */
    synchronized List<C> expired(long nowNanos) {
        List<C> out = new ArrayList<>();
        Iterator<Map.Entry<C, Entry>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<C, Entry> e = it.next();
            if (nowNanos - e.getValue().since < timeoutNanos) {
                break; // age order: the rest are younger
            }
            it.remove();
            uncount(e.getValue().address);
            out.add(e.getKey());
        }
        return out;
    }

    synchronized int size() {
        return pending.size();
    }

    private void remove(C conn) {
        Entry e = pending.remove(conn);
        if (e != null) {
            uncount(e.address);
        }
    }

    private void uncount(InetAddress address) {
        perAddress.computeIfPresent(address, (a, n) -> n > 1 ? n - 1 : null);
    }
}
