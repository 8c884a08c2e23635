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

static void
resolve_header(struct plan *p, const struct ast_file *ast, struct diag_sink *d)
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
        if (it->kind == PLAN_ITEM_TYPES)
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
        if (v->parent) {
            struct sm_list *ch = &v->parent->children;
            if (!v->parent->ok)
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
    resolve_header(p, ast, d);
    resolve_versions(p, ast, a, d);
    return (int)(diag_errors(d) - before);
}
