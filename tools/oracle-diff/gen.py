# SPDX-License-Identifier: BSD-2-Clause
# Random scenario generator for tools/oracle-diff/run.sh: python3 gen.py SEED > x.tun
import random, subprocess, sys
R = random.Random(int(sys.argv[1]))
def tok():
    c = R.randrange(60)
    n = lambda a,b: R.randrange(a,b)
    opts = [
        lambda: "open tun0", lambda: "open tun", lambda: "open tun1", lambda: "close tun0", lambda: "close tun1",
        lambda: f"read tun0 {n(0,300)}", lambda: f"read tun0 {n(0,300)} nonblock", lambda: f"read tun1 {n(0,100)}",
        lambda: f"write tun0 pat:{n(0,400)}", lambda: f"write tun0 be32:{R.choice([2,28,23,16,0,99])} pat:{n(0,60)}",
        lambda: f"write tun0 ip4:10.0.0.2>10.0.0.1 pat:{n(0,200)}",
        lambda: f"if_output tun0 inet:10.0.0.2 pat:{n(0,300)} lead={n(0,57)}",
        lambda: f"if_output tun0 inet:10.0.0.2 pat:{n(0,30)} mcast",
        lambda: f"if_output tun0 unspec le32:{R.choice([2,28,0,7])} pat:{n(0,60)}",
        lambda: f"if_output tun0 unspec le32:{R.choice([2,28])} pat:{n(0,8)} lead={n(0,30)}",
        lambda: (lambda a, b: f"if_output tun0 unspec le32:2 pat:{a + b} seg={4 + a},{b}")(n(0, 40), n(0, 100)),
        lambda: (lambda a, b: f"if_output tun0 inet:10.0.0.2 pat:{a + b} seg={a},{b} lead={n(0, 57 - a)}")(n(0, 57), n(0, 121)),
        lambda: f"read tun0 {R.choice([0, 1, 4, 16, 20])}",
        lambda: f"write tun0 be32:{R.choice([2, 28])} pat:{n(0, 200)}",
        lambda: f"if_output tun0 sa:{R.choice([2,28,0,5])}:{n(0,56)} pat:8",
        lambda: "if_output tun0 inet6 60000000", lambda: "if_output tun1 inet:10.0.0.9 01",
        lambda: "ifioctl tun0 SIOCSIFADDR 10.0.0.1", lambda: "ifioctl tun0 SIOCSIFADDR 0.0.0.0",
        lambda: "ifioctl tun0 SIOCSIFDSTADDR 10.0.0.2",
        lambda: R.choice(["ifioctl tun0 SIOCSIFFLAGS UP|POINTOPOINT|MULTICAST","ifioctl tun0 SIOCSIFFLAGS 0","ifioctl tun0 SIOCSIFFLAGS UP|BROADCAST|PPROMISC"]),
        lambda: "ifioctl tun0 SIOCGIFSTATUS", lambda: f"ifioctl tun0 SIOCSIFMTU {n(0,70000)}",
        lambda: R.choice(["ifioctl tun0 SIOCADDMULTI","ifioctl tun0 SIOCDELMULTI","ifioctl tun0 SIOCGIFMTU"]),
        lambda: f"ifioctl tun0 0x{R.choice([0x80206934,0x8020690c,0x80206910,0xc0de,0x8020690e]):x} {n(-5,9000)}",
        lambda: f"ioctl tun0 TUNSLMODE {n(0,2)}", lambda: f"ioctl tun0 TUNSIFHEAD {n(0,2)}",
        lambda: f"ioctl tun0 FIOASYNC {n(0,2)}", lambda: f"ioctl tun0 FIONBIO {n(0,2)}",
        lambda: "ioctl tun0 FIONREAD", lambda: "ioctl tun0 TUNGIFHEAD", lambda: "ioctl tun0 TUNGIFINFO",
        lambda: R.choice(["ioctl tun0 FIOSETOWN 100","ioctl tun0 FIOSETOWN 200","ioctl tun0 FIOSETOWN -500","ioctl tun0 FIOSETOWN 0","ioctl tun0 TIOCSPGRP 500","ioctl tun0 FIOGETOWN","ioctl tun0 TIOCGPGRP"]),
        lambda: f"ioctl tun0 TUNSIFINFO mtu={n(0,70000)} type={n(0,300)} baudrate={n(-3,99999)}",
        lambda: R.choice(["ioctl tun0 TUNSIFMODE BROADCAST","ioctl tun0 TUNSIFMODE POINTOPOINT|MULTICAST","ioctl tun0 TUNSIFMODE 0"]),
        lambda: f"ioctl tun0 TUNSDEBUG {n(0,2)}", lambda: "ioctl tun0 TUNSIFPID", lambda: f"ioctl tun0 0x{n(0,2**32):x} {n(-9,9)}",
        lambda: R.choice(["kq add tun0 read","kq add tun0 write","kq add tun0 vnode"]),
        lambda: f"kq check {n(1,5)}", lambda: f"kq del {n(1,5)}",
        lambda: "bpf attach tun0", lambda: "bpf detach tun0",
        lambda: f"altq tun0 {R.choice(['on','off'])}", lambda: "if_start tun0",
        lambda: f"failalloc {n(1,4)}", lambda: f"interrupt {n(1,4)}", lambda: f"interrupt {n(1,4)} restart",
        lambda: f"wait {n(1,4)}", lambda: "ifaddr tun0 null", lambda: "ifaddr tun0 inet 10.0.0.7", lambda: "ifaddr tun0 inet6",
        lambda: "proc 200 pgrp=500 uid=1000", lambda: "proc 201 pgrp=500", lambda: "proc 300 sess=2",
        lambda: "as 200", lambda: "as 100", lambda: "as 201", lambda: "as 66",
        lambda: "show tun0", lambda: "show tun1", lambda: "mbufs", lambda: "proc 66 uid=66",
    ]
    return opts[c % len(opts)]()
lines = ["open tun0"] + [tok() for _ in range(R.randrange(5, 60))]
print("\n".join(lines))
