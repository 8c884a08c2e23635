/* SPDX-License-Identifier: MIT */
/*
 * resolve.c: the first semantic pass. It reads the plan header (exactly
 * one, first: name, title, dialects) and turns the versions into a tree:
 * each version's text is parsed as a semantic version, versions must be
 * declared in ascending order without repeats, and each follows the one
 * declared before it unless `from` names an earlier one.
 *
 * Next in the pipeline: check.c replays the schema over this tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/check.h"

static void
suggest_dialect(struct diag_sink *d, const char *name)
{
    const struct dialect *near = dialect_suggest(name);
    struct strbuf names = STRBUF_INIT;

    if (near) {
        diag_help(d, "Did you mean \"%s\"?", near->name);
        return;
    }
    dialect_names_text(&names);
    diag_help(d, "The dialects are %s.", strbuf_str(&names));
    strbuf_free(&names);
}

/* types DIALECT { TYPE as "declared"; ... }: the plan's declared types for a dialect. */
static void
resolve_types(struct plan *p, const struct ast_plan_item *it, struct diag_sink *d)
{
    const struct dialect *dl = declared_dialect(p, &it->dialect, d);
    size_t i;

    if (!dl)
        return;
    for (i = 0; i < it->type_decls.len; i++) {
        const struct ast_type_decl *td = &it->type_decls.items[i];
        enum type_kind kind;
        if (!type_kind_lookup(td->type.name, &kind)) {
            diag_error(d, td->type.span, "E0401", "unknown type \"%s\"", td->type.name);
            diag_help(d, "The types are bool, int, bigint, double, decimal, string, text, bytes, "
                         "date, timestamp, interval, uuid and json.");
            continue;
        }
        if (p->declared[dl->id][kind]) {
            diag_error(d, td->span, "E0305", "the plan header declares type %s for %s twice",
                       td->type.name, dl->name);
            continue;
        }
        if (declared_type_ok(dl, &td->declared, d))
            p->declared[dl->id][kind] = td->declared.text;
    }
}

/* legacy DIALECT { table T { ... } }: the names are checked against the versions later
 * (check_legacy_names, after the walk). */
static void
resolve_legacy(struct plan *p, const struct ast_plan_item *it, struct arena *a, struct diag_sink *d)
{
    const struct dialect *dl = declared_dialect(p, &it->dialect, d);
    struct plan_legacy *grown;
    size_t i, k;

    if (!dl || !it->legacy.len)
        return;
    grown = ARENA_ARRAY(a, struct plan_legacy, p->nlegacy + it->legacy.len);
    if (p->nlegacy)
        memcpy(grown, p->legacy, p->nlegacy * sizeof *grown);
    p->legacy = grown;
    for (i = 0; i < it->legacy.len; i++) {
        const struct ast_legacy *l = &it->legacy.items[i];
        struct plan_legacy *pl = &p->legacy[p->nlegacy];
        memset(pl, 0, sizeof *pl);
        pl->kind = (enum plan_legacy_kind)l->kind;
        pl->dialect = dl;
        pl->table = l->table.name;
        pl->column = l->kind == LEGACY_NO_FK ? NULL : l->column.name;
        pl->span = l->span;
        if (l->kind == LEGACY_DEFAULT) {
            pl->dflt = value_of(a, l->dflt);
            if (pl->dflt->kind == VAL_EXPR && !value_expr_lookup(pl->dflt->text)) {
                diag_error(d, l->dflt->span, "E0404", "\"%s\" is no expression a default may be",
                           pl->dflt->text);
                diag_help(d, "The expressions a default may be are %s.", value_exprs_text());
                continue;
            }
        } else if (l->kind == LEGACY_TYPE) {
            if (!declared_type_ok(dl, &l->declared, d))
                continue;
            pl->declared = l->declared.text;
        } else if (l->kind == LEGACY_NO_FK) {
            pl->ncols = l->cols.len;
            pl->cols = ARENA_ARRAY(a, const char *, pl->ncols + 1);
            for (k = 0; k < pl->ncols; k++)
                pl->cols[k] = l->cols.items[k].name;
        }
        p->nlegacy++;
    }
}

static void
resolve_header(struct plan *p, const struct ast_file *ast, struct arena *a, struct diag_sink *d)
{
    const struct ast_plan *hdr;
    const struct ast_plan_item *title = NULL, *dialects = NULL, *descr = NULL;
    size_t i, j;

    if (ast->plans.len == 0) {
        struct src_span at = {ast->span.file, 0, 0};
        if (ast->versions.len)
            at = ast->versions.items[0]->span, at.end = at.start + 7;
        diag_error(d, at, "E0301", "the plan has no header");
        diag_help(d, "Start the file with: plan \"name\" { title \"...\"; dialects postgres, "
                     "sqlite; }");
        return;
    }
    hdr = ast->plans.items[0];
    for (i = 1; i < ast->plans.len; i++) {
        struct src_span at = ast->plans.items[i]->span;
        at.end = at.start + 4;
        diag_error(d, at, "E0302", "the plan has a second header");
        diag_note_at(d, (struct src_span){hdr->span.file, hdr->span.start, hdr->span.start + 4},
                     "The first header is here.");
    }
    if (ast->versions.len && ast->versions.items[0]->span.start < hdr->span.start) {
        struct src_span at = hdr->span;
        at.end = at.start + 4;
        diag_error(d, at, "E0303", "the plan header must come before the first version");
        diag_note_at(d,
                     (struct src_span){hdr->span.file, ast->versions.items[0]->span.start,
                                       ast->versions.items[0]->span.start + 7},
                     "The first version is declared here.");
    }
    if (hdr->name.text) {
        if (!plain_name(hdr->name.text)) {
            diag_error(d, hdr->name.span, "E0304", "plan name \"%s\" is not valid", hdr->name.text);
            diag_help(d, "A plan name is made of letters, digits, '.', '_' and '-', as in "
                         "\"duende-identityserver\".");
        }
        p->name = hdr->name.text;
    }
    for (i = 0; i < hdr->items.len; i++) {
        const struct ast_plan_item *it = hdr->items.items[i];
        const struct ast_plan_item **slot = it->kind == PLAN_ITEM_TITLE      ? &title
                                            : it->kind == PLAN_ITEM_DIALECTS ? &dialects
                                                                             : &descr;
        if (it->kind == PLAN_ITEM_TYPES || it->kind == PLAN_ITEM_LEGACY)
            continue; /* one per dialect: read once the dialects are known */
        if (*slot) {
            static const char *const what[] = {"title", "dialects", "description"};
            diag_error(d, it->span, "E0305", "the plan header gives %s twice", what[it->kind]);
            diag_note_at(d, (*slot)->span, "It was first given here.");
            continue;
        }
        *slot = it;
    }
    if (title)
        p->title = title->text.text;
    if (descr)
        p->description = descr->text.text;
    if (!dialects) {
        struct src_span at = hdr->span;
        at.end = at.start + 4;
        diag_error(d, at, "E0308", "the plan declares no dialects");
        diag_help(d, "Add \"dialects postgres, sqlite;\" to the plan header.");
        return;
    }
    for (i = 0; i < dialects->dialects.len; i++) {
        const struct ast_ident *id = &dialects->dialects.items[i];
        enum dialect_id dl;
        if (!dialect_lookup(id->name, &dl)) {
            diag_error(d, id->span, "E0306", "unknown dialect \"%s\"", id->name);
            suggest_dialect(d, id->name);
            continue;
        }
        if (plan_has_dialect(p, dl)) {
            diag_error(d, id->span, "E0307", "dialect \"%s\" is listed twice", id->name);
            for (j = 0; j < i; j++)
                if (strcmp(dialects->dialects.items[j].name, id->name) == 0)
                    diag_note_at(d, dialects->dialects.items[j].span, "It is first listed here.");
            continue;
        }
        p->dialects |= 1u << dl;
        p->dialect_order[p->ndialects++] = dl;
    }
    for (i = 0; i < hdr->items.len; i++)
        if (hdr->items.items[i]->kind == PLAN_ITEM_TYPES)
            resolve_types(p, hdr->items.items[i], d);
    for (i = 0; i < hdr->items.len; i++)
        if (hdr->items.items[i]->kind == PLAN_ITEM_LEGACY)
            resolve_legacy(p, hdr->items.items[i], a, d);
}

/* Whether a is b or one of the versions b follows, through the versions' parents. */
static bool
tree_ancestor(const struct plan_version *a, const struct plan_version *b)
{
    for (; b; b = b->parent)
        if (a == b)
            return true;
    return false;
}

/* The last version that both a and b follow or are (through parents), or NULL. */
static const struct plan_version *
parting(const struct plan_version *a, const struct plan_version *b)
{
    for (; a; a = a->parent)
        if (tree_ancestor(a, b))
            return a;
    return NULL;
}

/*
 * version "2.0" from "1.2" merges "1.2.1": 1.2.1 must be on a line that parts
 * from 1.2 (1.2 is one of the versions it follows, not itself). Then 2.0 is
 * checked on top of 1.2.1's schema, and a derived step leads from 1.2.1.
 */
static void
resolve_merges(struct plan *p, struct plan_version *v, struct arena *a, struct diag_sink *d)
{
    const struct ast_version *av = v->ast;
    const struct ast_string *name = &av->merges.items[0];
    struct plan_version *m = plan_find_version(p, a, name->text), *step;

    if (av->merges.len > 1) {
        diag_error(d, av->merges.items[1].span, "E0316",
                   "version \"%s\" merges more than one version", v->name);
        diag_note(d, "A version takes in one line of hotfixes: its statements are written on "
                     "top of that line's last version.");
        diag_help(d,
                  "Merge the line's last version only: the versions before it on the line "
                  "reach \"%s\" through it.",
                  v->name);
        v->ok = false;
        return;
    }
    if (!m || m->index >= v->index) {
        struct semver fv;
        bool later = m || (!semver_parse(name->text, &fv) && semver_cmp(&fv, &v->sv) >= 0);
        diag_error(d, name->span, later ? "E0314" : "E0313",
                   later ? "version \"%s\" cannot merge \"%s\", which is not earlier"
                         : "version \"%s\" merges \"%s\", which is not declared",
                   v->name, name->text);
        diag_help(d, "merges names a hotfix declared above the version that takes it in.");
        v->ok = false;
        return;
    }
    if (!v->parent || m == v->parent || !tree_ancestor(v->parent, m)) {
        diag_error(d, name->span, "E0316",
                   "version \"%s\" merges \"%s\", which does not part from \"%s\"", v->name,
                   m->name, v->parent ? v->parent->name : "an empty database");
        if (v->parent && tree_ancestor(m, v->parent)) {
            diag_note(d, "\"%s\" follows \"%s\", which has the changes of \"%s\" already.", v->name,
                      v->parent->name, m->name);
            diag_help(d, "Remove the merges.");
        } else {
            const struct plan_version *at = v->parent ? parting(v->parent, m) : NULL;
            diag_note(d,
                      "A merged version is a hotfix on a line that parts from the version this "
                      "one follows (\"%s\" here).",
                      v->parent ? v->parent->name : "none");
            if (at)
                diag_help(d,
                          "The line of \"%s\" parts from \"%s\": version \"%s\" from \"%s\" "
                          "merges \"%s\" takes it in (its statements then start from \"%s\").",
                          m->name, at->name, v->name, at->name, m->name, m->name);
        }
        v->ok = false;
        return;
    }
    if (!m->ok) {
        v->ok = false;
        return;
    }
    v->merged = m;
    step = ARENA_NEW(a, struct plan_version);
    step->name = v->name;
    step->sv = v->sv;
    step->ast = v->ast;
    step->parent = m;
    step->derived_of = v;
    step->ok = true;
    v->merge_step = step;
    p->nderived++;
}

/*
 * W0315: a version from which no path leads to the latest one. Reported at
 * the last version of each such line: the versions before it get there
 * through it once it is merged.
 */
static void
warn_dead_ends(struct plan *p, struct diag_sink *d)
{
    struct plan_version *last = plan_last(p), **next;
    bool *has_successor;
    size_t i;

    if (!last || !last->ok)
        return;
    for (i = 0; i < p->nversions; i++)
        if (!p->versions[i]->ok)
            return; /* the tree is not whole: errors first */
    next = xmalloc((p->nversions + 1) * sizeof *next);
    has_successor = xcalloc(p->nversions + 1, sizeof *has_successor);
    for (i = 0; i < p->nversions; i++) {
        const struct plan_version *v = p->versions[i];
        if (v->parent)
            has_successor[v->parent->index] = true;
        if (v->merged)
            has_successor[v->merged->index] = true;
    }
    plan_ways(p, last, next);
    for (i = 0; i + 1 < p->nversions; i++) {
        const struct plan_version *v = p->versions[i];
        const struct plan_version *at = parting(v, last);
        if (next[i] || has_successor[i])
            continue;
        diag_warning(d, v->ast->version.span, "W0315",
                     "a database at version \"%s\" cannot be upgraded to \"%s\", the latest "
                     "version",
                     v->name, last->name);
        diag_note(d,
                  "No step leads on from \"%s\": a version follows one other, so the line "
                  "that ends here and the one of \"%s\" never meet.",
                  v->name, last->name);
        if (at)
            diag_help(d,
                      "If a later version takes in its changes, say so, as in: version \"%s\" "
                      "from \"%s\" merges \"%s\".",
                      last->name, at->name, v->name);
    }
    free(next);
    free(has_successor);
}

static void
resolve_versions(struct plan *p, const struct ast_file *ast, struct arena *a, struct diag_sink *d)
{
    struct plan_version *prev_ok = NULL; /* the last version whose text parsed */
    size_t i;

    p->nversions = ast->versions.len;
    p->versions = ARENA_ARRAY(a, struct plan_version *, p->nversions + 1);
    if (p->nversions == 0) {
        struct src_span at = {ast->span.file, 0, 0};
        if (ast->plans.len)
            at = ast->plans.items[0]->span, at.end = at.start + 4;
        diag_error(d, at, "E0309", "the plan has no versions");
        diag_help(d, "Declare the baseline schema in a first version, e.g. version \"1.0\" { "
                     "create table ... }.");
        return;
    }
    for (i = 0; i < p->nversions; i++) {
        struct ast_version *av = ast->versions.items[i];
        struct plan_version *v = ARENA_NEW(a, struct plan_version);
        struct plan_version *same;
        const char *err, *key;

        v->ast = av;
        v->index = i;
        v->name = av->version.text ? av->version.text : "?";
        p->versions[i] = v;
        if (!av->version.text)
            continue; /* a syntax error in the header was reported */
        if ((err = semver_parse(av->version.text, &v->sv))) {
            diag_error(d, av->version.span, "E0310", "version \"%s\" is not a semantic version: %s",
                       av->version.text, err);
            diag_help(d, "Write MAJOR.MINOR[.PATCH][-PRERELEASE], as in \"7.0\" or "
                         "\"7.0.0-preview.1\".");
            continue;
        }
        if (strlen(av->version.text) > UPG_VERSION_MAX) {
            /* a bundle names each step's files by its two versions, in at most 255 bytes */
            diag_error(d, av->version.span, "E0310",
                       "version \"%.40s...\" is longer than %d characters", av->version.text,
                       UPG_VERSION_MAX);
            diag_help(d, "Shorten its pre-release part: a bundle names the files of each step by "
                         "its versions.");
            continue;
        }
        key = plan_version_key(a, &v->sv);
        if ((same = hmap_get(&p->by_name, key))) {
            if (strcmp(same->name, v->name) == 0)
                diag_error(d, av->version.span, "E0311", "version \"%s\" is declared twice",
                           v->name);
            else
                diag_error(d, av->version.span, "E0311",
                           "version \"%s\" is the same version as \"%s\"", v->name, same->name);
            diag_note_at(d, same->ast->version.span, "It is first declared here.");
            continue;
        }
        if (prev_ok && semver_cmp(&v->sv, &prev_ok->sv) < 0) {
            diag_error(d, av->version.span, "E0312",
                       "version \"%s\" is declared after \"%s\", a later version", v->name,
                       prev_ok->name);
            diag_help(d, "Declare versions in ascending order.");
            diag_note_at(d, prev_ok->ast->version.span, "\"%s\" is declared here.", prev_ok->name);
            continue;
        }
        hmap_put(&p->by_name, key, v);
        v->ok = true;
        if (av->from.text) {
            struct plan_version *from = plan_find_version(p, a, av->from.text);
            if (!from) {
                struct semver fv;
                if (!semver_parse(av->from.text, &fv) && semver_cmp(&fv, &v->sv) >= 0) {
                    diag_error(d, av->from.span, "E0314",
                               "version \"%s\" cannot follow \"%s\", which is not earlier", v->name,
                               av->from.text);
                    diag_help(d, "A version follows an earlier version; \"from\" names one "
                                 "declared above it.");
                } else {
                    diag_error(d, av->from.span, "E0313",
                               "version \"%s\" follows \"%s\", which is not declared", v->name,
                               av->from.text);
                    if (prev_ok)
                        diag_help(d,
                                  "Declare \"%s\" first, or follow a declared version such "
                                  "as \"%s\".",
                                  av->from.text, prev_ok->name);
                }
                diag_note(d,
                          "The statements of version \"%s\" and of the versions that follow "
                          "it are not checked until this is fixed.",
                          v->name);
                v->ok = false;
                prev_ok = v; /* the versions after it follow it, and go unchecked too */
                continue;
            }
            v->parent = from;
        } else {
            v->parent = prev_ok;
            if (!prev_ok && i > 0) {
                /* every version before it was invalid: its base is unknown */
                v->ok = false;
            }
        }
        if (av->merges.len && v->ok)
            resolve_merges(p, v, a, d);
        if (v->parent) {
            /* checked on top of the schema of the version it merges, if any */
            struct plan_version *base = v->merged ? v->merged : v->parent;
            struct sm_list *ch = &base->children;
            if (!v->parent->ok || !base->ok)
                v->ok = false;
            if (ch->len == ch->cap) {
                size_t ncap = ch->cap ? ch->cap * 2 : 2;
                void **items = ARENA_ARRAY(a, void *, ncap);
                if (ch->len)
                    memcpy(items, ch->items, ch->len * sizeof *items);
                ch->items = items;
                ch->cap = ncap;
            }
            ch->items[ch->len++] = v;
        }
        prev_ok = v;
    }
}

int
pass_resolve(struct plan *p, const struct ast_file *ast, struct arena *a, struct diag_sink *d)
{
    size_t before = diag_errors(d);

    memset(p, 0, sizeof *p);
    p->ast = ast;
    hmap_init(&p->by_name, false);
    resolve_header(p, ast, a, d);
    resolve_versions(p, ast, a, d);
    if (p->nderived) {
        size_t k = 0;
        p->derived = ARENA_ARRAY(a, struct plan_version *, p->nderived);
        for (size_t i = 0; i < p->nversions; i++)
            if (p->versions[i]->merge_step) {
                p->versions[i]->merge_step->index = p->nversions + k;
                p->derived[k++] = p->versions[i]->merge_step;
            }
    }
    warn_dead_ends(p, d);
    return (int)(diag_errors(d) - before);
}
