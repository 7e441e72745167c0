#!/usr/bin/env python3
"""Generate a large, valid pvenotify configuration directory for benchmarking.

Writes DIR/notifications.cfg (M targets + N matchers), DIR/priv/notifications.cfg
(secrets, mode 0600), DIR/user.cfg and DIR/datacenter.cfg. The output depends only
on the arguments (fixed default seed), so every run benchmarks the same files.

Profiles:
  full     every matcher has a realistic mix of rules and 1-3 targets; targets carry
           comments, headers and bodies (about 150 bytes per matcher).
  compact  the same kinds of sections and rules, but short names, one target per
           matcher and a rule in one matcher of three (about 40 bytes per matcher), so
           that 100,000 matchers fit into the 4 MiB size limit of notifications.cfg.

Usage: gen_config.py --matchers N --targets M --out DIR [--profile full|compact] [--seed S]
"""

import argparse
import base64
import os
import random
import sys

MAX_FILE_SIZE = 4 * 1024 * 1024  # pvenotify refuses a larger notifications.cfg

TARGET_KINDS = ("sendmail", "smtp", "gotify", "webhook")
EXACT_TYPES = ("vzdump", "replication", "fencing", "package-updates", "system-mail")
SEVERITY_SETS = ("warning,error", "error", "info,notice", "notice,warning,error")
CALENDARS = ("mon..fri 8-18", "sat,sun 0-23:59", "mon..fri 18:00-23:59", "8:00-17:30")
HOST_REGEXES = (r"^pve\d+$", r"^pve-node\d{2}$", r"^(pve|px)\d+$", r"^backup\d+\.example\.com$")
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def base36(n, width):
    digits = []
    for _ in range(width):
        n, d = divmod(n, 36)
        digits.append(B36[d])
    if n:
        raise ValueError("number too large for %d base-36 digits" % width)
    return "".join(reversed(digits))


def width_for(count, base):
    width = 1
    while base ** width < count:
        width += 1
    return width


class Profile:
    def __init__(self, name, n_matchers, n_targets):
        self.full = name == "full"
        self.t_width = width_for(n_targets, 10)
        self.m_width = width_for(n_matchers, 10 if self.full else 36)

    def target_name(self, kind, i):
        if self.full:
            prefix = {"sendmail": "mail", "smtp": "relay", "gotify": "phone", "webhook": "hook"}[kind]
            return "%s-%0*d" % (prefix, self.t_width, i)
        return "t%0*d" % (self.t_width, i)

    def matcher_name(self, i):
        if self.full:
            return "match-%0*d" % (self.m_width, i)
        return "m" + base36(i, self.m_width)


def gen_targets(rng, prof, count, n_users):
    """Return (public sections, private sections, target names)."""
    public, private, names = [], [], []
    for i in range(count):
        kind = TARGET_KINDS[i % len(TARGET_KINDS)]
        name = prof.target_name(kind, i)
        names.append(name)
        lines = ["%s: %s" % (kind, name)]
        if prof.full and rng.random() < 0.5:
            lines.append("comment %s target %d for team %d" % (kind, i, rng.randrange(50)))
        if kind == "sendmail":
            lines.append("mailto ops%d@example.com" % rng.randrange(1000))
            if rng.random() < 0.5:
                lines.append("mailto-user user%d@pve" % rng.randrange(n_users))
            if rng.random() < 0.3:
                lines.append("from-address pve%d@example.com" % rng.randrange(100))
                lines.append("author PVE Cluster %d" % rng.randrange(100))
        elif kind == "smtp":
            lines.append("server smtp%d.example.com" % rng.randrange(100))
            lines.append("mode %s" % rng.choice(("starttls", "tls")))
            lines.append("from-address pve%d@example.com" % rng.randrange(100))
            lines.append("mailto oncall%d@example.com" % rng.randrange(1000))
            if rng.random() < 0.3:
                lines.append("mailto-user user%d@pve" % rng.randrange(n_users))
            if rng.random() < 0.6:
                lines.append("username notify%d" % rng.randrange(100))
                private.append(["smtp: %s" % name, "password pw-%08x" % rng.getrandbits(32)])
            if rng.random() < 0.2:
                lines.append("port %d" % rng.choice((25, 465, 587, 2525)))
        elif kind == "gotify":
            lines.append("server https://gotify%d.example.com" % rng.randrange(100))
            private.append(["gotify: %s" % name, "token A%015x" % rng.getrandbits(60)])
        else:  # webhook
            lines.append("method %s" % rng.choice(("post", "put", "post")))
            if rng.random() < 0.5:
                lines.append("url https://hooks%d.example.com/notify/{{ url-encode secrets.channel }}"
                             % rng.randrange(100))
                private.append(["webhook: %s" % name,
                                "secret name=channel,value=%s" % b64("chan-%d" % rng.randrange(1000))])
            else:
                lines.append("url https://chat%d.example.com/api/hook/%d" % (rng.randrange(100), i))
            lines.append("header name=Content-Type,value=%s" % b64("application/json"))
            if prof.full:
                lines.append("body %s" % b64('{"title": "{{ escape title }}", "text": "{{ escape message }}", '
                                             '"severity": "{{ severity }}"}'))
        public.append(lines)
    return public, private, names


def full_rules(rng):
    rules = []
    if rng.random() < 0.7:
        rules.append("match-field exact:type=%s" % rng.choice(EXACT_TYPES))
    if rng.random() < 0.25:
        rules.append("match-field regex:hostname=%s" % rng.choice(HOST_REGEXES))
    if rng.random() < 0.6:
        rules.append("match-severity %s" % rng.choice(SEVERITY_SETS))
    if rng.random() < 0.3:
        rules.append("match-calendar %s" % rng.choice(CALENDARS))
    if not rules:
        rules.append("match-severity error")
    return rules


def compact_rules(rng):
    # About one matcher in three has one rule, so the file stays near 40 bytes/matcher.
    r = rng.random()
    if r < 0.10:
        return ["match-field exact:type=vzdump"]
    if r < 0.18:
        return ["match-severity error"]
    if r < 0.24:
        return [r"match-field regex:hostname=^pve\d+$"]
    if r < 0.30:
        return ["match-calendar mon..fri 8-18"]
    if r < 0.33:
        return ["match-severity warning,error"]
    return []


def gen_matchers(rng, prof, count, target_names):
    sections = []
    for i in range(count):
        lines = ["matcher: %s" % prof.matcher_name(i)]
        if prof.full and rng.random() < 0.3:
            lines.append("comment generated matcher %d" % i)
        lines += full_rules(rng) if prof.full else compact_rules(rng)
        r = rng.random()
        if r < (0.25 if prof.full else 0.04):
            lines.append("mode any")
        elif prof.full and r < 0.40:
            lines.append("mode all")
        if rng.random() < (0.05 if prof.full else 0.01):
            lines.append("invert-match true")
        n_targets = rng.randint(1, 3) if prof.full else 1
        for t in rng.sample(target_names, min(len(target_names), n_targets)):
            lines.append("target %s" % t)
        sections.append(lines)
    return sections


def render(sections):
    return "\n".join(s[0] + "\n" + "".join("\t%s\n" % line for line in s[1:]) for s in sections)


def write(path, text, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def main():
    ap = argparse.ArgumentParser(description="Generate a pvenotify configuration directory.")
    ap.add_argument("--matchers", type=int, required=True, help="number of matchers")
    ap.add_argument("--targets", type=int, required=True, help="number of targets")
    ap.add_argument("--out", required=True, help="configuration directory to write")
    ap.add_argument("--profile", choices=("full", "compact"), default="full")
    ap.add_argument("--seed", type=int, default=20240603)
    args = ap.parse_args()
    if args.targets < 1 or args.matchers < 0:
        sys.exit("gen_config.py: need --targets >= 1 and --matchers >= 0")

    rng = random.Random(args.seed)
    prof = Profile(args.profile, args.matchers, args.targets)
    n_users = 50

    public, private, names = gen_targets(rng, prof, args.targets, n_users)
    public += gen_matchers(rng, prof, args.matchers, names)
    text = render(public)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_SIZE:
        sys.exit("gen_config.py: notifications.cfg would be %d bytes, over the 4 MiB limit "
                 "(use --profile compact or fewer matchers)" % size)

    os.makedirs(os.path.join(args.out, "priv"), exist_ok=True)
    os.chmod(os.path.join(args.out, "priv"), 0o700)
    write(os.path.join(args.out, "notifications.cfg"), text, 0o644)
    write(os.path.join(args.out, "priv", "notifications.cfg"), render(private), 0o600)

    users = ["user:root@pam:1:0:::admin@example.com:::"]
    users += ["user:user%d@pve:1:0:User:%d:user%d@example.com:::" % (u, u, u) for u in range(n_users)]
    users += ["", "group:admins:user0@pve,user1@pve:Cluster admins:"]
    write(os.path.join(args.out, "user.cfg"), "\n".join(users) + "\n", 0o640)
    write(os.path.join(args.out, "datacenter.cfg"), "keyboard: en-us\nemail_from: pve@example.com\n", 0o640)


if __name__ == "__main__":
    main()
