// SPDX-License-Identifier: BSD-2-Clause
/*
 * The C glue of if_tun.ko: what Linux 6.12's Rust bindings cannot do. Each function is the
 * thinnest wrapper of the kernel API it names; the driver logic is all in Rust
 * (the Rust files beside it call these, and the file operations call back into Rust).
 *
 *   character devices  ktun_glue_init/exit (chrdev region, class with a devnode hook,
 *                      cdev), ktun_device_create/destroy, the file_operations below
 *   sleep and poll     ktun_sleep, ktun_wakeup, ktun_poll_wait (hashed wait queues)
 *   processes          ktun_current_pid/euid/egid, ktun_pid_exists, ktun_pgrp_exists,
 *                      ktun_kill_pid, ktun_kill_pgrp, ktun_preempt_disable/enable
 *   net_device         ktun_netdev_alloc/register/unregister/free/close/set_mtu,
 *                      transmit (ktun_xmit -> work -> Rust), receive (ktun_rx_alloc,
 *                      ktun_rx), the inetaddr and netdevice notifiers
 *   console            ktun_printk
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/hash.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/netdevice.h>
#include <linux/if_arp.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <linux/rtnetlink.h>
#include <linux/inetdevice.h>
#include <linux/notifier.h>

#include "glue.h"

/* ---- character devices */

static dev_t ktun_devt;
static unsigned int ktun_nminors;
static struct cdev ktun_cdev;
static struct class *ktun_class;
static bool ktun_cdev_added;

/* Owner and mode of each minor's node, for the devnode hook. */
struct ktun_perm {
	unsigned int uid, gid, mode;
};
static struct ktun_perm *ktun_perms;

static int ktun_open(struct inode *inode, struct file *file)
{
	void *priv = NULL;
	int err = ktun_rs_open(iminor(inode), &priv);

	if (err)
		return err;
	file->private_data = priv;
	return stream_open(inode, file);
}

static int ktun_release(struct inode *inode, struct file *file)
{
	return ktun_rs_release(file->private_data);
}

static ssize_t ktun_read(struct file *file, char __user *buf, size_t len, loff_t *pos)
{
	return ktun_rs_read(file->private_data, (unsigned long)buf, len,
			    !!(file->f_flags & O_NONBLOCK));
}

static ssize_t ktun_write(struct file *file, const char __user *buf, size_t len, loff_t *pos)
{
	return ktun_rs_write(file->private_data, (unsigned long)buf, len,
			     !!(file->f_flags & O_NONBLOCK));
}

static long ktun_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return ktun_rs_ioctl(file->private_data, cmd, arg);
}

static __poll_t ktun_poll(struct file *file, poll_table *pt)
{
	return (__poll_t)ktun_rs_poll(file->private_data, file, pt);
}

static const struct file_operations ktun_fops = {
	.owner = THIS_MODULE,
	.open = ktun_open,
	.release = ktun_release,
	.read = ktun_read,
	.write = ktun_write,
	.unlocked_ioctl = ktun_ioctl,
	.poll = ktun_poll,
};

/* The node's owner and mode: make_dev's uid, gid and perms (devtmpfs asks the type). */
static char *ktun_devnode(const struct device *dev, umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	unsigned int minor = MINOR(dev->devt);

	if (ktun_perms && minor < ktun_nminors) {
		if (mode)
			*mode = ktun_perms[minor].mode;
		if (uid)
			*uid = KUIDT_INIT(ktun_perms[minor].uid);
		if (gid)
			*gid = KGIDT_INIT(ktun_perms[minor].gid);
	}
	return NULL;
}

static const struct device_type ktun_devtype = {
	.name = "tun",
	.devnode = ktun_devnode,
};

static struct device **ktun_devices;

static void ktun_device_release(struct device *dev)
{
	kfree(dev);
}

/* make_dev: /dev/NAME for minor, owner uid:gid, mode. */
int ktun_device_create(unsigned int minor, const char *name, unsigned int uid,
		       unsigned int gid, unsigned int mode)
{
	struct device *d;
	int err;

	if (minor >= ktun_nminors || ktun_devices[minor])
		return -ENXIO;
	ktun_perms[minor].uid = uid;
	ktun_perms[minor].gid = gid;
	ktun_perms[minor].mode = mode;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	device_initialize(d);
	d->devt = MKDEV(MAJOR(ktun_devt), minor);
	d->class = ktun_class;
	d->type = &ktun_devtype;
	d->release = ktun_device_release;
	err = dev_set_name(d, "%s", name);
	if (!err)
		err = device_add(d);
	if (err) {
		put_device(d);
		return err;
	}
	ktun_devices[minor] = d;
	return 0;
}

/* destroy_dev. */
void ktun_device_destroy(unsigned int minor)
{
	if (minor < ktun_nminors && ktun_devices[minor]) {
		device_unregister(ktun_devices[minor]);
		ktun_devices[minor] = NULL;
	}
}

/* ---- sleep, wakeup, poll: a wait channel (an address) hashes to one of these queues. */

#define KTUN_WQ_BITS 6
static wait_queue_head_t ktun_wq[1 << KTUN_WQ_BITS];

static wait_queue_head_t *ktun_chan(unsigned long ident)
{
	return &ktun_wq[hash_long(ident, KTUN_WQ_BITS)];
}

/*
 * tsleep: queue the task on the channel, release the caller's interlock (unlock(arg)),
 * then sleep until a wakeup or a signal. 0 when woken, -ERESTARTSYS on a signal.
 */
int ktun_sleep(unsigned long ident, ktun_unlock_fn unlock, void *arg)
{
	wait_queue_head_t *wq = ktun_chan(ident);
	DEFINE_WAIT(wait);
	int ret = 0;

	prepare_to_wait(wq, &wait, TASK_INTERRUPTIBLE);
	unlock(arg);
	if (!signal_pending(current))
		schedule();
	finish_wait(wq, &wait);
	if (signal_pending(current))
		ret = -ERESTARTSYS;
	return ret;
}

void ktun_wakeup(unsigned long ident)
{
	wake_up_all(ktun_chan(ident));
}

void ktun_poll_wait(void *file, unsigned long ident, void *pt)
{
	poll_wait((struct file *)file, ktun_chan(ident), (poll_table *)pt);
}

/* ---- processes and signals */

int ktun_current_pid(void)
{
	return task_tgid_vnr(current);
}

unsigned int ktun_current_euid(void)
{
	return from_kuid_munged(current_user_ns(), current_euid());
}

unsigned int ktun_current_egid(void)
{
	return from_kgid_munged(current_user_ns(), current_egid());
}

int ktun_pid_exists(int pid)
{
	int ret;

	rcu_read_lock();
	ret = pid > 0 && pid_task(find_vpid(pid), PIDTYPE_PID) != NULL;
	rcu_read_unlock();
	return ret;
}

int ktun_pgrp_exists(int pgrp)
{
	int ret;

	rcu_read_lock();
	ret = pgrp > 0 && pid_task(find_vpid(pgrp), PIDTYPE_PGID) != NULL;
	rcu_read_unlock();
	return ret;
}

int ktun_kill_pid(int pid, int sig)
{
	struct pid *p;
	int ret = -ESRCH;

	rcu_read_lock();
	p = find_vpid(pid);
	if (p)
		ret = kill_pid(p, sig, 1);
	rcu_read_unlock();
	return ret;
}

int ktun_kill_pgrp(int pgrp, int sig)
{
	struct pid *p;
	int ret = -ESRCH;

	rcu_read_lock();
	p = find_vpid(pgrp);
	if (p)
		ret = kill_pgrp(p, sig, 1);
	rcu_read_unlock();
	return ret;
}

void ktun_preempt_disable(void)
{
	preempt_disable();
}

void ktun_preempt_enable(void)
{
	preempt_enable();
}

/* ---- net_device */

struct ktun_priv {
	struct net_device *dev;
	const void *ctx;	/* the Rust Ifnet (a strong reference) */
	ktun_out_fn out;
	ktun_addr_fn addr;
	ktun_flag_fn flag;
	struct sk_buff_head txq;
	struct work_struct work;
};

static const struct net_device_ops ktun_netdev_ops;

/* Transmit runs in softirq context: queue the packet for the work item. */
static netdev_tx_t ktun_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ktun_priv *p = netdev_priv(dev);

	skb_queue_tail(&p->txq, skb);
	schedule_work(&p->work);
	return NETDEV_TX_OK;
}

/* The work item, in process context: each packet to the driver's if_output. */
static void ktun_tx_work(struct work_struct *w)
{
	struct ktun_priv *p = container_of(w, struct ktun_priv, work);
	struct net_device *dev = p->dev;
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&p->txq)) != NULL) {
		if (skb_linearize(skb) == 0 && p->out &&
		    p->out(p->ctx, skb->data, skb->len, ntohs(skb->protocol)) == 0) {
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += skb->len;
		} else {
			dev->stats.tx_dropped++;
		}
		consume_skb(skb);
	}
}

static const struct net_device_ops ktun_netdev_ops = {
	.ndo_start_xmit = ktun_xmit,
};

static void ktun_setup(struct net_device *dev)
{
	struct ktun_priv *p = netdev_priv(dev);

	dev->netdev_ops = &ktun_netdev_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->mtu = 1500;
	dev->min_mtu = 72;
	dev->max_mtu = 65535;
	dev->tx_queue_len = 500;
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	skb_queue_head_init(&p->txq);
	INIT_WORK(&p->work, ktun_tx_work);
}

void *ktun_netdev_alloc(const char *name)
{
	return alloc_netdev(sizeof(struct ktun_priv), name, NET_NAME_USER, ktun_setup);
}

/* register_netdev; the ifindex, or -errno. */
int ktun_netdev_register(void *d, const void *ctx, ktun_out_fn out, ktun_addr_fn addr,
			 ktun_flag_fn flag)
{
	struct net_device *dev = d;
	struct ktun_priv *p = netdev_priv(dev);
	int err;

	p->ctx = ctx;
	p->out = out;
	p->addr = addr;
	p->flag = flag;
	err = register_netdev(dev);
	if (err) {
		p->ctx = NULL;
		return err;
	}
	return dev->ifindex;
}

/* unregister_netdev, then no more transmit work: the Rust side may drop ctx after this. */
void ktun_netdev_unregister(void *d)
{
	struct net_device *dev = d;
	struct ktun_priv *p = netdev_priv(dev);

	unregister_netdev(dev);
	cancel_work_sync(&p->work);
	skb_queue_purge(&p->txq);
	p->ctx = NULL;
	p->out = NULL;
	p->addr = NULL;
	p->flag = NULL;
}

void ktun_netdev_free(void *d)
{
	free_netdev(d);
}

/* if_down: dev_close under RTNL (process context, RTNL not held). */
void ktun_netdev_close(void *d)
{
	rtnl_lock();
	dev_close(d);
	rtnl_unlock();
}

void ktun_netdev_set_mtu(void *d, unsigned int mtu)
{
	rtnl_lock();
	dev_set_mtu(d, mtu);
	rtnl_unlock();
}

/* A receive skb of len bytes for dev; *data is where they go. */
void *ktun_rx_alloc(void *d, unsigned int len, unsigned char **data)
{
	struct sk_buff *skb = netdev_alloc_skb(d, len);

	if (!skb)
		return NULL;
	*data = skb_put(skb, len);
	return skb;
}

/* The packet enters Linux's stack as received on dev (netif_rx). */
int ktun_rx(void *s, void *d, unsigned short proto)
{
	struct sk_buff *skb = s;
	struct net_device *dev = d;

	skb->protocol = htons(proto);
	skb->dev = dev;
	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	skb->ip_summed = CHECKSUM_NONE;
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += skb->len;
	return netif_rx(skb);
}

/* An IPv4 address added to or removed from one of our devices: the driver's if_ioctl. */
static int ktun_inetaddr_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct in_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->ifa_dev->dev;
	struct ktun_priv *p;

	if (dev->netdev_ops != &ktun_netdev_ops)
		return NOTIFY_DONE;
	p = netdev_priv(dev);
	if (p->addr && (event == NETDEV_UP || event == NETDEV_DOWN))
		p->addr(p->ctx, event == NETDEV_UP, ifa->ifa_local, ifa->ifa_address);
	return NOTIFY_DONE;
}

/* Our device went up or down (ip link, SIOCSIFFLAGS, dev_close): BSD's IFF_UP follows. */
static int ktun_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct ktun_priv *p;

	if (dev->netdev_ops != &ktun_netdev_ops)
		return NOTIFY_DONE;
	p = netdev_priv(dev);
	if (p->flag && (event == NETDEV_UP || event == NETDEV_DOWN))
		p->flag(p->ctx, event == NETDEV_UP);
	return NOTIFY_DONE;
}

static struct notifier_block ktun_inetaddr_nb = { .notifier_call = ktun_inetaddr_event };
static struct notifier_block ktun_netdev_nb = { .notifier_call = ktun_netdev_event };

/* ---- setup and teardown */

int ktun_glue_init(unsigned int nminors)
{
	int err, i;

	for (i = 0; i < (1 << KTUN_WQ_BITS); i++)
		init_waitqueue_head(&ktun_wq[i]);
	ktun_perms = kcalloc(nminors, sizeof(*ktun_perms), GFP_KERNEL);
	ktun_devices = kcalloc(nminors, sizeof(*ktun_devices), GFP_KERNEL);
	if (!ktun_perms || !ktun_devices) {
		err = -ENOMEM;
		goto free_perms;
	}
	err = alloc_chrdev_region(&ktun_devt, 0, nminors, "tun");
	if (err)
		goto free_perms;
	ktun_nminors = nminors;
	ktun_class = class_create("tun");
	if (IS_ERR(ktun_class)) {
		err = PTR_ERR(ktun_class);
		goto unregion;
	}
	cdev_init(&ktun_cdev, &ktun_fops);
	ktun_cdev.owner = THIS_MODULE;
	err = cdev_add(&ktun_cdev, ktun_devt, nminors);
	if (err)
		goto unclass;
	ktun_cdev_added = true;
	err = register_inetaddr_notifier(&ktun_inetaddr_nb);
	if (err)
		goto uncdev;
	err = register_netdevice_notifier(&ktun_netdev_nb);
	if (err)
		goto uninet;
	return 0;
uninet:
	unregister_inetaddr_notifier(&ktun_inetaddr_nb);
uncdev:
	cdev_del(&ktun_cdev);
	ktun_cdev_added = false;
unclass:
	class_destroy(ktun_class);
unregion:
	unregister_chrdev_region(ktun_devt, nminors);
free_perms:
	kfree(ktun_devices);
	ktun_devices = NULL;
	kfree(ktun_perms);
	ktun_perms = NULL;
	return err;
}

void ktun_glue_exit(void)
{
	unregister_netdevice_notifier(&ktun_netdev_nb);
	unregister_inetaddr_notifier(&ktun_inetaddr_nb);
	if (ktun_cdev_added)
		cdev_del(&ktun_cdev);
	class_destroy(ktun_class);
	unregister_chrdev_region(ktun_devt, ktun_nminors);
	kfree(ktun_devices);
	ktun_devices = NULL;
	kfree(ktun_perms);
	ktun_perms = NULL;
}

/* ---- console */

void ktun_printk(int level, const unsigned char *text, unsigned int len)
{
	if (level <= 3)
		pr_err("%.*s\n", (int)len, text);
	else
		pr_info("%.*s\n", (int)len, text);
}
