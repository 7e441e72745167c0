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

With --faults K, K lines of notifications.cfg (and a few of the private file) are then
damaged in ways validate reports (misspelt keys, bad values, missing targets, broken
regexes and calendars, duplicate keys, lost blank lines, bad names and base64), so that
validate has many findings to compare before and after a change. Also deterministic.

Usage: gen_config.py --matchers N --targets M --out DIR [--profile full|compact] [--seed S]
                     [--faults K]
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
            lines.append("comment matcher %d" % i)
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


def damage_line(rng, line):
    """One property line made wrong in a way chosen by its key; None = leave it."""
    key, _, value = line.partition(" ")
    choices = {
        "mailto": ["mailto x", "mail-to %s" % value, "mailto %s\x07" % value],
        "mailto-user": ["mailto-user nobody@pve", "mailto-user root@pam"],
        "server": ["server %s?token=x" % value, "server ftp://%s" % value, "server"],
        "port": ["port 70000", "port 0", "port abc"],
        "mode": ["mode ssl", "mode any", "mode"],
        "method": ["method patch"],
        "url": ["url ftp://example.com/x", "url not a url"],
        "header": ["header name=Bad Header,value=%s" % b64("x"), "header value=%s" % b64("x"),
                   "header name=X-Test,value=***"],
        "body": ["body ***not base64***", "body %s" % b64("{{ unclosed")],
        "match-field": ["match-field regex:hostname=(", "match-field exact:type", "match-field fuzzy:a=b"],
        "match-severity": ["match-severity fatal", "match-severity warning,,error"],
        "match-calendar": ["match-calendar mon-fry 9-17", "match-calendar 9:00-9:00",
                           "match-calendar mon-fri 22:00-06:00", "match-calendar 25:00-26:00"],
        "target": ["target ghost-%d" % rng.randrange(100), "target default-matcher", "target a"],
        "mode any": [],
        "invert-match": ["invert-match maybe"],
        "comment": ["comment %s" % ("x" * 200), "# comment %s" % value],
        "from-address": ["from-address root\tx"],
        "username": ["username %s\nport 1" % value],
        "disable": ["disable yes please"],
    }.get(key, ["%s-typo %s" % (key, value), "%s %s" % (key, value)])
    return rng.choice(choices) if choices else None


def damage(rng, sections, private, count):
    """Damage `count` lines of the public sections and a few private ones, in place."""
    spots = [(i, j) for i, s in enumerate(sections) for j in range(1, len(s))]
    for i, j in sorted(rng.sample(spots, min(count, len(spots)))):
        kind = rng.random()
        if kind < 0.08:
            # A header whose name breaks the rule, or whose type is unknown.
            sections[i][0] = rng.choice(["matcher: -%d" % i, "Sendmail: s%d" % i,
                                         "matcher: %s" % ("n" * 40)])
        elif kind < 0.14:
            # The blank line before the next section is lost (it becomes a property line).
            sections[i].append("\x00join")
        elif kind < 0.20:
            sections[i].append(sections[i][j])  # a repeated key
        else:
            new = damage_line(rng, sections[i][j])
            if new is not None:
                sections[i][j] = new
    for section in rng.sample(private, min(len(private), max(1, count // 20))):
        section[1] = rng.choice(["password", "token", "secret name=channel,value=***", "bogus 1",
                                 "secret name=channel", section[1] + "\n" + section[1]])


def render(sections):
    def body(line):
        # "\x00join" marks a lost blank line: the next header follows directly.
        return "" if line == "\x00join" else "\t%s\n" % line.replace("\n", "\n\t")

    out = []
    for s in sections:
        text = s[0] + "\n" + "".join(body(line) for line in s[1:])
        out.append(text)
    # A section ending in the marker is glued to the next one.
    joined = ""
    for s, text in zip(sections, out):
        joined += text
        if not (len(s) > 1 and s[-1] == "\x00join"):
            joined += "\n"
    return joined.rstrip("\n") + "\n"


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
    ap.add_argument("--faults", type=int, default=0, help="damage this many lines (see above)")
    args = ap.parse_args()
    if args.targets < 1 or args.matchers < 0:
        sys.exit("gen_config.py: need --targets >= 1 and --matchers >= 0")

    rng = random.Random(args.seed)
    prof = Profile(args.profile, args.matchers, args.targets)
    n_users = 50

    public, private, names = gen_targets(rng, prof, args.targets, n_users)
    public += gen_matchers(rng, prof, args.matchers, names)
    if args.faults:
        damage(random.Random(args.seed + 1), public, private, args.faults)
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
