/*
 * peer.c — what the socket says about the client, as opposed to what its headers say: whether
 * the connection comes from this machine's loopback. Used where trust is decided by the network
 * path (/metrics), so a forwarded address (--trust-proxy) never decides it.
 */
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "http/http.h"

bool http_address_is_loopback(const struct sockaddr *sa)
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127; /* 127.0.0.0/8 */
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) /* ::1 */
            return true;
        /* ::ffff:127.x.y.z, as a dual-stack socket reports an IPv4 loopback client */
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

bool http_peer_is_loopback(http_request *req)
{
    if (req->connection == NULL)
        return false;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info != NULL && http_address_is_loopback(info->client_addr);
}
