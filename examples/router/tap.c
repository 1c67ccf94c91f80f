/**
 * @file
 * A Linux tap device as an lwIP Ethernet netif: one reader thread per tap, frames out by
 * write(). See tap.h for why the example has its own driver.
 */
#include "tap.h"

#include "lwip/etharp.h"
#include "lwip/pbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/** Largest frame read or written: Ethernet header, 1500 bytes, a VLAN tag. */
#define TAP_FRAME_MAX 1518

static err_t
tap_linkoutput(struct netif *netif, struct pbuf *p)
{
  const struct tap *tap = (const struct tap *)netif->state;
  u8_t frame[TAP_FRAME_MAX];
  u16_t len;

  if (p->tot_len > sizeof(frame)) {
    return ERR_IF;
  }
  len = pbuf_copy_partial(p, frame, p->tot_len, 0);
  /* EIO while the host side of the tap is down: the frame is lost, as on an unplugged cable */
  if (write(tap->fd, frame, len) != (ssize_t)len) {
    return ERR_IF;
  }
  return ERR_OK;
}

/** Reads frames until the tap goes away; each goes to netif->input in its own PBUF_RAM pbuf. */
static void *
tap_reader(void *arg)
{
  struct netif *netif = (struct netif *)arg;
  const struct tap *tap = (const struct tap *)netif->state;
  u8_t frame[TAP_FRAME_MAX];

  for (;;) {
    struct pbuf *p;
    ssize_t len = read(tap->fd, frame, sizeof(frame));
    if (len < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      fprintf(stderr, "tap %s: read failed (%s)%s: no more frames from it\n", tap->name, strerror(err),
              (err == EFAULT) || (err == EBADFD) ? ", its interface is gone" : "");
      if (tap->failed != NULL) {
        tap->failed(tap, err);
      }
      return NULL;
    }
    if (len == 0) {
      continue;
    }
    p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
    if (p == NULL) {
      continue; /* out of memory: dropped, as a NIC drops when its ring is full */
    }
    memcpy(p->payload, frame, (size_t)len);
    if (netif->input(p, netif) != ERR_OK) {
      pbuf_free(p);
    }
  }
}

err_t
tap_netif_init(struct netif *netif)
{
  struct tap *tap = (struct tap *)netif->state;
  struct ifreq ifr;

  tap->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tap->fd < 0) {
    tap->fd_error = errno;
    return ERR_IF;
  }
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, tap->name, sizeof(ifr.ifr_name) - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
    tap->fd_error = errno;
    close(tap->fd);
    tap->fd = -1;
    return ERR_IF;
  }

  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->output = etharp_output;
  netif->linkoutput = tap_linkoutput;
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memcpy(netif->hwaddr, tap->mac, ETH_HWADDR_LEN);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_LINK_UP;
  tap->fd_error = pthread_create(&tap->reader, NULL, tap_reader, netif);
  if (tap->fd_error != 0) {
    close(tap->fd);
    tap->fd = -1;
    return ERR_IF;
  }
  return ERR_OK;
}
