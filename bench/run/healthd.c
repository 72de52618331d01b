#define _GNU_SOURCE /* strcasestr */
/*
 * healthd: a tiny loopback HTTP/1.1 server for the run-overhead benchmark.
 *
 * Answers every request with `200 {"status":"ok"}` (keep-alive unless the client asks to close),
 * so the benchmark measures the client side, not the server. Binds 127.0.0.1 only; a thread per
 * connection; exits by itself after LIFETIME seconds (default 3600) or on SIGTERM/SIGINT.
 *
 *   cc -O2 -pthread -o healthd healthd.c && ./healthd PORT [LIFETIME]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 15\r\n"
    "\r\n"
    "{\"status\":\"ok\"}";
static const char RESPONSE_CLOSE[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 15\r\n"
    "Connection: close\r\n"
    "\r\n"
    "{\"status\":\"ok\"}";

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *serve(void *arg) {
    int fd = (int)(long)arg;
    char buf[16384];
    size_t have = 0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        char *end;
        /* Every complete request head in the buffer gets one response (requests carry no body). */
        while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            size_t len = (size_t)(end - buf) + 4;
            char saved = buf[len - 1];
            buf[len - 1] = 0;
            char *nl = strchr(buf, '\n');
            int http10 = nl != NULL && nl - buf >= 9 && memcmp(nl - 9, "HTTP/1.0", 8) == 0;
            int close_after = http10 || strcasestr(buf, "\nConnection: close") != NULL;
            buf[len - 1] = saved;
            memmove(buf, buf + len, have - len);
            have -= len;
            buf[have] = 0;
            if (close_after) {
                send_all(fd, RESPONSE_CLOSE, sizeof RESPONSE_CLOSE - 1);
                goto done;
            }
            if (send_all(fd, RESPONSE, sizeof RESPONSE - 1) < 0) goto done;
        }
        if (have >= sizeof buf - 1) break; /* a head larger than the buffer: give up */
    }
done:
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: healthd PORT [LIFETIME_SECONDS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    unsigned lifetime = argc > 2 ? (unsigned)atoi(argv[2]) : 3600;
    signal(SIGPIPE, SIG_IGN);
    /* A shell may start background jobs with some signals ignored: make sure these still end us. */
    signal(SIGALRM, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    alarm(lifetime); /* SIGALRM ends the process: the server never outlives the benchmark */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 512) < 0) {
        perror("healthd: bind/listen");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(long)c) != 0) {
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}
