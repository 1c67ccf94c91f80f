/**
 * @file
 * lwip-snat's thread-safe entry points (lwip_snat_tcpip.h): each call is one message run by
 * tcpip_api_call(), which takes the core lock or hands it to the tcpip thread and waits.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */
#include "lwip/opt.h"

#include "lwip_snat_tcpip.h"

#if !NO_SYS

#include "lwip_snat_hook.h"

#include "lwip/priv/tcpip_priv.h"

#include <string.h>

/** Which function a message runs. */
enum lwip_snat_tcpip_op {
  LWIP_SNAT_TCPIP_START,
  LWIP_SNAT_TCPIP_SET_CONFIG,
  LWIP_SNAT_TCPIP_GET_CONFIG,
  LWIP_SNAT_TCPIP_RULE_ADD,
  LWIP_SNAT_TCPIP_RULE_REMOVE,
  LWIP_SNAT_TCPIP_PORTMAP_ADD,
  LWIP_SNAT_TCPIP_PORTMAP_REMOVE,
  LWIP_SNAT_TCPIP_STATS,
  LWIP_SNAT_TCPIP_FLUSH,
  LWIP_SNAT_TCPIP_REMOVE_HOST,
  LWIP_SNAT_TCPIP_FOREACH
};

struct lwip_snat_tcpip_msg {
  struct tcpip_api_call_data call; /* first: tcpip_api_call() gets a pointer to it */
  enum lwip_snat_tcpip_op op;
  const void *in;
  void *out;
  lwip_snat_foreach_fn cb;
  uint32_t value;
  lwip_snat_err_t result;
};

/* Runs in lwIP's core context. */
static err_t
lwip_snat_tcpip_run(struct tcpip_api_call_data *call)
{
  struct lwip_snat_tcpip_msg *msg = (struct lwip_snat_tcpip_msg *)call;
  switch (msg->op) {
    case LWIP_SNAT_TCPIP_START:
      msg->result = lwip_snat_start((const struct lwip_snat_config *)msg->in);
      break;
    case LWIP_SNAT_TCPIP_SET_CONFIG:
      msg->result = lwip_snat_set_config((const struct lwip_snat_config *)msg->in);
      break;
    case LWIP_SNAT_TCPIP_GET_CONFIG:
      msg->result = lwip_snat_get_config((struct lwip_snat_config *)msg->out);
      break;
    case LWIP_SNAT_TCPIP_RULE_ADD:
      msg->result = lwip_snat_rule_add((const struct lwip_snat_rule *)msg->in);
      break;
    case LWIP_SNAT_TCPIP_RULE_REMOVE:
      msg->result = lwip_snat_rule_remove((const struct lwip_snat_rule *)msg->in);
      break;
#if defined(LWIP_SNAT_FEATURE_PORTMAP)
    case LWIP_SNAT_TCPIP_PORTMAP_ADD:
      msg->result = lwip_snat_portmap_add((const struct lwip_snat_portmap *)msg->in);
      break;
    case LWIP_SNAT_TCPIP_PORTMAP_REMOVE:
      msg->result = lwip_snat_portmap_remove((const struct lwip_snat_portmap *)msg->in);
      break;
#endif
    case LWIP_SNAT_TCPIP_STATS:
      msg->result = lwip_snat_stats((struct lwip_snat_stats *)msg->out);
      break;
    case LWIP_SNAT_TCPIP_FLUSH:
      msg->result = lwip_snat_flush();
      break;
    case LWIP_SNAT_TCPIP_REMOVE_HOST:
      msg->result = lwip_snat_remove_host(msg->value);
      break;
#if defined(LWIP_SNAT_FEATURE_DUMP)
    case LWIP_SNAT_TCPIP_FOREACH:
      msg->result = lwip_snat_foreach(msg->cb, msg->out, msg->value);
      break;
#endif
    default:
      msg->result = LWIP_SNAT_ERR_ARG;
      break;
  }
  return ERR_OK;
}

static lwip_snat_err_t
lwip_snat_tcpip_call(enum lwip_snat_tcpip_op op, const void *in, void *out, lwip_snat_foreach_fn cb, uint32_t value)
{
  struct lwip_snat_tcpip_msg msg;
  memset(&msg, 0, sizeof(msg));
  msg.op = op;
  msg.in = in;
  msg.out = out;
  msg.cb = cb;
  msg.value = value;
  msg.result = LWIP_SNAT_ERR_NOT_INIT;
  if (tcpip_api_call(lwip_snat_tcpip_run, &msg.call) != ERR_OK) {
    return LWIP_SNAT_ERR_BUSY;
  }
  return msg.result;
}

lwip_snat_err_t
(lwip_snat_tcpip_start)(const struct lwip_snat_config *cfg)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_START, cfg, NULL, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_set_config(const struct lwip_snat_config *cfg)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_SET_CONFIG, cfg, NULL, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_get_config(struct lwip_snat_config *out)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_GET_CONFIG, NULL, out, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_rule_add(const struct lwip_snat_rule *rule)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_RULE_ADD, rule, NULL, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_rule_remove(const struct lwip_snat_rule *rule)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_RULE_REMOVE, rule, NULL, NULL, 0);
}

#if defined(LWIP_SNAT_FEATURE_PORTMAP)
lwip_snat_err_t
lwip_snat_tcpip_portmap_add(const struct lwip_snat_portmap *map)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_PORTMAP_ADD, map, NULL, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_portmap_remove(const struct lwip_snat_portmap *map)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_PORTMAP_REMOVE, map, NULL, NULL, 0);
}
#endif /* LWIP_SNAT_FEATURE_PORTMAP */

lwip_snat_err_t
lwip_snat_tcpip_stats(struct lwip_snat_stats *out)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_STATS, NULL, out, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_flush(void)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_FLUSH, NULL, NULL, NULL, 0);
}

lwip_snat_err_t
lwip_snat_tcpip_remove_host(uint32_t addr)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_REMOVE_HOST, NULL, NULL, NULL, addr);
}

#if defined(LWIP_SNAT_FEATURE_DUMP)
lwip_snat_err_t
lwip_snat_tcpip_foreach(lwip_snat_foreach_fn cb, void *arg, uint32_t now_ms)
{
  return lwip_snat_tcpip_call(LWIP_SNAT_TCPIP_FOREACH, NULL, arg, cb, now_ms);
}
#endif

#else /* !NO_SYS */

/* NO_SYS=1: one context, nothing to wrap (and ISO C wants a declaration in every file). */
typedef int lwip_snat_tcpip_unused;

#endif /* !NO_SYS */
