/* SPDX-License-Identifier: BSD-2-Clause */
/* The glue functions kmock/linux/ffi.rs declares (see glue.c). */
#ifndef KTUN_GLUE_H
#define KTUN_GLUE_H

#include <linux/types.h>

typedef int (*ktun_out_fn)(const void *ctx, const unsigned char *data, unsigned int len,
			   unsigned short proto);
typedef void (*ktun_addr_fn)(const void *ctx, int up, __be32 local, __be32 peer);
typedef void (*ktun_flag_fn)(const void *ctx, int up);
typedef void (*ktun_unlock_fn)(void *arg);

/* Rust entry points (kmock/linux/glue.rs). */
int ktun_rs_open(unsigned int minor, void **priv);
int ktun_rs_release(void *priv);
ssize_t ktun_rs_read(void *priv, unsigned long buf, size_t len, int nonblock);
ssize_t ktun_rs_write(void *priv, unsigned long buf, size_t len, int nonblock);
long ktun_rs_ioctl(void *priv, unsigned int cmd, unsigned long arg);
unsigned int ktun_rs_poll(void *priv, void *file, void *pt);

int ktun_device_create(unsigned int minor, const char *name, unsigned int uid, 		       unsigned int gid, unsigned int mode);
void ktun_device_destroy(unsigned int minor);
int ktun_sleep(unsigned long ident, ktun_unlock_fn unlock, void *arg);
void ktun_wakeup(unsigned long ident);
void ktun_poll_wait(void *file, unsigned long ident, void *pt);
int ktun_current_pid(void);
unsigned int ktun_current_euid(void);
unsigned int ktun_current_egid(void);
int ktun_pid_exists(int pid);
int ktun_pgrp_exists(int pgrp);
int ktun_kill_pid(int pid, int sig);
int ktun_kill_pgrp(int pgrp, int sig);
void ktun_preempt_disable(void);
void ktun_preempt_enable(void);
void *ktun_netdev_alloc(const char *name);
int ktun_netdev_register(void *d, const void *ctx, ktun_out_fn out, ktun_addr_fn addr, 			 ktun_flag_fn flag);
void ktun_netdev_unregister(void *d);
void ktun_netdev_free(void *d);
void ktun_netdev_close(void *d);
void ktun_netdev_set_mtu(void *d, unsigned int mtu);
void *ktun_rx_alloc(void *d, unsigned int len, unsigned char **data);
int ktun_rx(void *s, void *d, unsigned short proto);
int ktun_glue_init(unsigned int nminors);
void ktun_glue_exit(void);
void ktun_printk(int level, const unsigned char *text, unsigned int len);

#endif
