package dev.hostdeploy.protocol;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The connections that have not finished the WebSocket upgrade yet, as sshd's MaxStartups and
 * LoginGraceTime bound them: at most {@code maxPending} in all and {@code maxPerAddress} from one
 * address, each for at most {@code timeoutNanos}. A new connection is always admitted and the oldest
 * pending one (of its address when that address is at its limit, else of all) is dropped for it: a
 * flood, even from the Manager's own address, then only ever pushes out older idle connections, and a
 * Manager that connects after it gets in. Thread-safe; the caller closes what it is handed back.
 *
 * @param <C> the connection type (the agent's WebSocket; anything in tests)
 */
final class HandshakeGate<C> {
    private record Entry(InetAddress address, long since) {
    }

    private final int maxPending;
    private final int maxPerAddress;
    private final long timeoutNanos;
    /** Insertion order is age order: the first is the oldest. */
    private final LinkedHashMap<C, Entry> pending = new LinkedHashMap<>();
    private final Map<InetAddress, ArrayDeque<C>> byAddress = new HashMap<>();

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
        ArrayDeque<C> mine = byAddress.computeIfAbsent(address, a -> new ArrayDeque<>());
        if (mine.size() >= maxPerAddress) {
            C oldest = mine.peekFirst();
            remove(oldest);
            evicted.add(oldest);
        } else if (pending.size() >= maxPending) {
            C oldest = pending.keySet().iterator().next();
            remove(oldest);
            evicted.add(oldest);
        }
        pending.put(conn, new Entry(address, nowNanos));
        byAddress.computeIfAbsent(address, a -> new ArrayDeque<>()).addLast(conn);
        return evicted;
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
            if (nowNanos - e.getValue().since() < timeoutNanos) {
                break; // age order: the rest are younger
            }
            it.remove();
            removeFromAddress(e.getKey(), e.getValue().address());
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
            removeFromAddress(conn, e.address());
        }
    }

    private void removeFromAddress(C conn, InetAddress address) {
        ArrayDeque<C> q = byAddress.get(address);
        if (q != null) {
            q.remove(conn);
            if (q.isEmpty()) {
                byAddress.remove(address);
            }
        }
    }
}
