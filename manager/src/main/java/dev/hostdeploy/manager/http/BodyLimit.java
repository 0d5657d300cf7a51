package dev.hostdeploy.manager.http;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * Bounds every request body while it is read. Javalin's {@code maxRequestSize} only checks a declared
 * Content-Length, so a chunked body used to be read whole into memory; here the stream itself stops
 * past the limit with a 413, whoever reads it. Jetty then closes the connection rather than draining it.
 */
final class BodyLimit implements Filter {
    private final long max;

    BodyLimit(long max) {
        this.max = max;
    }

    static ApiException tooLarge(long max) {
        return new ApiException(413, "payload_too_large", "request body is larger than " + max + " bytes");
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        chain.doFilter(new HttpServletRequestWrapper(http) {
            private ServletInputStream bounded;

            @Override
            public ServletInputStream getInputStream() throws IOException {
                if (bounded == null) {
                    if (http.getContentLengthLong() > max) {
                        throw tooLarge(max);
                    }
                    bounded = new Bounded(http.getInputStream(), max);
                }
                return bounded;
            }
        }, response);
    }

    private static final class Bounded extends ServletInputStream {
        private final ServletInputStream in;
        private final long max;
        private long read;

        Bounded(ServletInputStream in, long max) {
            this.in = in;
            this.max = max;
        }

        private int count(int n) {
            if (n > 0) {
                read += n;
                if (read > max) {
                    throw tooLarge(max);
                }
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            // Never ask for more than one byte past the limit, so an oversized body is not buffered here.
            long room = max + 1 - read;
            return count(in.read(b, off, (int) Math.min(len, Math.max(1, room))));
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
