/* SPDX-License-Identifier: MIT */
/* version.c: parsing and ordering semantic versions (semver 2.0.0 §9-§11). */
#include "compiler/version.h"

#include <string.h>

/* Parses a numeric identifier at *p: digits, no leading zero, no overflow. */
static const char *
parse_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (*s < '0' || *s > '9')
        return "a number is missing";
    if (*s == '0' && s[1] >= '0' && s[1] <= '9')
        return "a number has a leading zero";
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return "a number is too large";
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    *p = s;
    return NULL;
}

static bool
is_ident_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* Checks a dot-separated pre-release: non-empty identifiers, numeric ones without leading zeros. */
static const char *
check_pre(const char *s)
{
    for (;;) {
        const char *start = s;
        bool numeric = true;
        for (; *s && *s != '.'; s++) {
            if (*s == '+')
                return "build metadata (+...) does not order versions and is not allowed";
            if (!is_ident_char(*s))
                return "the pre-release may only contain letters, digits, '-' and '.'";
            if (*s < '0' || *s > '9')
                numeric = false;
        }
        if (s == start)
            return "the pre-release has an empty part";
        if (numeric && *start == '0' && s - start > 1)
            return "a number in the pre-release has a leading zero";
        if (!*s)
            return NULL;
        s++;
    }
}

const char *
semver_parse(const char *text, struct semver *out)
{
    const char *p = text, *err;

    memset(out, 0, sizeof *out);
    if (!*p)
        return "the version is empty";
    if ((err = parse_num(&p, &out->major)))
        return err;
    if (*p != '.')
        return "a version needs at least MAJOR.MINOR";
    p++;
    if ((err = parse_num(&p, &out->minor)))
        return err;
    if (*p == '.') {
        p++;
        if ((err = parse_num(&p, &out->patch)))
            return err;
    }
    if (*p == '-') {
        p++;
        if ((err = check_pre(p)))
            return err;
        out->pre = p;
        return NULL;
    }
    if (*p == '+')
        return "build metadata (+...) does not order versions and is not allowed";
    if (*p == '.')
        return "a version has at most three numbers, MAJOR.MINOR.PATCH";
    if (*p)
        return "unexpected characters after the version numbers";
    return NULL;
}

static int
cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* Compares one pre-release identifier each: numeric < alphanumeric; numbers by value. */
static int
cmp_pre_ident(const char *a, size_t la, const char *b, size_t lb)
{
    bool na = true, nb = true;
    size_t i;
    int r;

    for (i = 0; i < la; i++)
        na = na && a[i] >= '0' && a[i] <= '9';
    for (i = 0; i < lb; i++)
        nb = nb && b[i] >= '0' && b[i] <= '9';
    if (na && nb) {
        if (la != lb)
            return la < lb ? -1 : 1; /* no leading zeros: longer is larger */
        r = memcmp(a, b, la);
        return r < 0 ? -1 : r > 0;
    }
    if (na != nb)
        return na ? -1 : 1;
    r = memcmp(a, b, la < lb ? la : lb);
    if (r)
        return r < 0 ? -1 : 1;
    return cmp_u64(la, lb);
}

int
semver_cmp(const struct semver *a, const struct semver *b)
{
    const char *pa, *pb;
    int r;

    if ((r = cmp_u64(a->major, b->major)) || (r = cmp_u64(a->minor, b->minor)) ||
        (r = cmp_u64(a->patch, b->patch)))
        return r;
    if (!a->pre || !b->pre)
        return a->pre ? -1 : b->pre ? 1 : 0; /* a pre-release orders before its release */
    pa = a->pre;
    pb = b->pre;
    for (;;) {
        size_t la = strcspn(pa, "."), lb = strcspn(pb, ".");
        if ((r = cmp_pre_ident(pa, la, pb, lb)))
            return r;
        pa += la;
        pb += lb;
        if (!*pa || !*pb)
            return *pa ? 1 : *pb ? -1 : 0; /* more identifiers: later */
        pa++;
        pb++;
    }
}
