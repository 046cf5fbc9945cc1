/*
 * ds_filter.c — the filter language: parse, bind to a schema, prune with
 * statistics, evaluate on Arrow arrays.
 *
 * Grammar (keywords case-insensitive):
 *   expr    := or
 *   or      := and (OR and)*
 *   and     := not (AND not)*
 *   not     := NOT not | primary
 *   primary := '(' expr ')' | TRUE | FALSE | pred
 *   pred    := name op literal | literal op name
 *            | name [NOT] IN '(' literal (',' literal)* ')'
 *            | name IS [NOT] NULL
 *   op      := = == != <> < <= > >=
 *   literal := number | 'string' ('' escapes ') | TRUE | FALSE
 *            | DATE 'YYYY-MM-DD' | TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.f]'
 *   name    := identifier | "quoted name"
 *
 * SQL three-valued logic: a comparison with a null is NULL and a row is kept
 * only when the whole filter is TRUE. NOT is pushed into the leaves at parse
 * time (NOT a < 1 == a >= 1 under Kleene logic, De Morgan for AND/OR), so
 * pruning and evaluation only see AND/OR over leaves.
 */
#include "dataset_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind {
    T_END,
    T_IDENT,
    T_QIDENT,
    T_NUMBER,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OP,
    T_AND,
    T_OR,
    T_NOT,
    T_IN,
    T_IS,
    T_NULL,
    T_TRUE,
    T_FALSE,
    T_DATE,
    T_TIMESTAMP,
    T_BAD
};

struct tok {
    enum tok_kind kind;
    int pos;
    int len;
    enum ds_cmp op;
};

struct parser {
    const char *s;
    struct tok t;
    struct ds_filter *f;
};

static hx_status syntax_error(const char *expr, int pos, int len, const char *what) {
    /* The caret line is what makes a long expression's error findable. */
    size_t n = strlen(expr);
    if (pos < 0) pos = 0;
    if ((size_t)pos > n) pos = (int)n;
    struct hx_buf b;
    hx_buf_init(&b);
    hx_status st = hx_buf_printf(&b, "filter: %s at position %d", what, pos + 1);
    if (st == HOIST_OK && pos < (int)n) st = hx_buf_printf(&b, " ('%.*s')", len > 0 ? len : 1, expr + pos);
    if (st == HOIST_OK) st = hx_buf_printf(&b, "\n  %s\n  %*s^", expr, pos, "");
    if (st != HOIST_OK) {
        hx_buf_reset(&b);
        return hx_error(HOIST_ERR_FILTER, "filter: %s at position %d", what, pos + 1);
    }
    st = hx_error(HOIST_ERR_FILTER, "%s", b.data);
    hx_buf_reset(&b);
    return st;
}

static bool kw(const char *s, int len, const char *word) {
    return (int)strlen(word) == len && strncasecmp(s, word, (size_t)len) == 0;
}

static void next_tok(struct parser *p) {
    const char *s = p->s;
    int i = p->t.pos + p->t.len;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') i++;
    struct tok t = {T_END, i, 0, DS_EQ};
    char c = s[i];
    if (c == '\0') {
        p->t = t;
        return;
    }
    if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        t.len = 1;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        char d = s[i + 1];
        t.kind = T_OP;
        t.len = 1;
        if (c == '=') {
            t.op = DS_EQ;
            if (d == '=') t.len = 2;
        } else if (c == '!') {
            if (d == '=') {
                t.op = DS_NE;
                t.len = 2;
            } else
                t.kind = T_BAD;
        } else if (c == '<') {
            if (d == '=') {
                t.op = DS_LE;
                t.len = 2;
            } else if (d == '>') {
                t.op = DS_NE;
                t.len = 2;
            } else
                t.op = DS_LT;
        } else {
            if (d == '=') {
                t.op = DS_GE;
                t.len = 2;
            } else
                t.op = DS_GT;
        }
    } else if (c == '\'' || c == '"') {
        /* A doubled quote inside is the quote itself (SQL). */
        int j = i + 1;
        for (;;) {
            if (s[j] == '\0') {
                t.kind = T_BAD;
                break;
            }
            if (s[j] == c) {
                if (s[j + 1] == c) {
                    j += 2;
                    continue;
                }
                break;
            }
            j++;
        }
        if (t.kind != T_BAD) t.kind = c == '\'' ? T_STRING : T_QIDENT;
        t.len = (s[j] ? j + 1 : j) - i;
    } else if (isdigit((unsigned char)c) || c == '-' || c == '+' ||
               (c == '.' && isdigit((unsigned char)s[i + 1]))) {
        int j = i;
        if (s[j] == '-' || s[j] == '+') j++;
        int digits = 0;
        while (isdigit((unsigned char)s[j]) || s[j] == '.') {
            digits += isdigit((unsigned char)s[j]) != 0;
            j++;
        }
        if (digits && (s[j] == 'e' || s[j] == 'E')) {
            int k = j + 1;
            if (s[k] == '-' || s[k] == '+') k++;
            if (isdigit((unsigned char)s[k])) {
                while (isdigit((unsigned char)s[k])) k++;
                j = k;
            }
        }
        t.kind = digits ? T_NUMBER : T_BAD;
        if (isalpha((unsigned char)s[j]) || s[j] == '_') t.kind = T_BAD;
        t.len = j - i > 0 ? j - i : 1;
    } else if (isalpha((unsigned char)c) || c == '_') {
        int j = i;
        while (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.') j++;
        t.len = j - i;
        const char *w = s + i;
        t.kind = kw(w, t.len, "AND")         ? T_AND
                 : kw(w, t.len, "OR")        ? T_OR
                 : kw(w, t.len, "NOT")       ? T_NOT
                 : kw(w, t.len, "IN")        ? T_IN
                 : kw(w, t.len, "IS")        ? T_IS
                 : kw(w, t.len, "NULL")      ? T_NULL
                 : kw(w, t.len, "TRUE")      ? T_TRUE
                 : kw(w, t.len, "FALSE")     ? T_FALSE
                 : kw(w, t.len, "DATE")      ? T_DATE
                 : kw(w, t.len, "TIMESTAMP") ? T_TIMESTAMP
                                             : T_IDENT;
    } else {
        t.kind = T_BAD;
        t.len = 1;
    }
    p->t = t;
}

static hx_status err_here(struct parser *p, const char *what) {
    if (p->t.kind == T_END) return syntax_error(p->s, p->t.pos, 0, "unexpected end of expression");
    if (p->t.kind == T_BAD) return syntax_error(p->s, p->t.pos, p->t.len, "invalid token");
    return syntax_error(p->s, p->t.pos, p->t.len, what);
}

static void node_free(struct ds_node *n) {
    if (!n) return;
    node_free(n->a);
    node_free(n->b);
    hx_free(n->column);
    for (size_t i = 0; i < n->nlits; i++) hx_free(n->lits[i].s);
    hx_free(n->lits);
    hx_free(n);
}

void hx_ds_filter_free(struct ds_filter *f) {
    if (!f) return;
    node_free(f->root);
    for (size_t i = 0; i < f->ncolumns; i++) hx_free(f->columns[i]);
    hx_free(f->columns);
    hx_free(f->text);
    hx_free(f);
}

static struct ds_node *node_new(enum ds_node_kind kind) {
    struct ds_node *n = hx_calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->column_pos = -1;
        n->col = -1;
    }
    return n;
}

/* Unquotes a quoted token (doubled quotes -> one). */
static char *unquote(const char *s, int len, size_t *outlen) {
    char q = s[0];
    char *r = hx_malloc((size_t)len + 1);
    if (!r) return NULL;
    size_t k = 0;
    for (int i = 1; i < len - 1; i++) {
        r[k++] = s[i];
        if (s[i] == q && s[i + 1] == q) i++;
    }
    r[k] = '\0';
    if (outlen) *outlen = k;
    return r;
}

static hx_status parse_column(struct parser *p, struct ds_node *n) {
    if (p->t.kind == T_IDENT)
        n->column = hx_strndup(p->s + p->t.pos, (size_t)p->t.len);
    else if (p->t.kind == T_QIDENT)
        n->column = unquote(p->s + p->t.pos, p->t.len, NULL);
    else
        return err_here(p, "expected a column name");
    if (!n->column) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    n->column_pos = p->t.pos;
    next_tok(p);
    return HOIST_OK;
}

static bool is_literal_start(enum tok_kind k) {
    return k == T_NUMBER || k == T_STRING || k == T_TRUE || k == T_FALSE || k == T_DATE || k == T_TIMESTAMP;
}

static hx_status parse_literal(struct parser *p, struct ds_lit *lit) {
    memset(lit, 0, sizeof *lit);
    lit->pos = p->t.pos;
    const char *w = p->s + p->t.pos;
    switch (p->t.kind) {
    case T_NUMBER: {
        char buf[64];
        if (p->t.len >= (int)sizeof buf) return err_here(p, "number too long");
        memcpy(buf, w, (size_t)p->t.len);
        buf[p->t.len] = '\0';
        bool is_int = strpbrk(buf, ".eE") == NULL;
        char *end = NULL;
        if (is_int) {
            errno = 0;
            long long v = strtoll(buf, &end, 10);
            if (*end) return err_here(p, "bad number");
            if (errno == ERANGE) {
                /* Beyond int64: still a valid literal for a decimal(38)
                 * column (bound from its text) or a float one. */
                lit->kind = DS_L_FLOAT;
                lit->d = strtod(buf, NULL);
            } else if (errno) {
                return err_here(p, "bad number");
            } else {
                lit->kind = DS_L_INT;
                lit->i = v;
            }
        } else {
            double d = strtod(buf, &end);
            if (*end || !isfinite(d)) return err_here(p, "bad number");
            lit->kind = DS_L_FLOAT;
            lit->d = d;
        }
        break;
    }
    case T_STRING:
        lit->kind = DS_L_STRING;
        lit->s = unquote(w, p->t.len, &lit->slen);
        if (!lit->s) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        break;
    case T_TRUE:
    case T_FALSE:
        lit->kind = DS_L_BOOL;
        lit->i = p->t.kind == T_TRUE;
        break;
    case T_DATE:
    case T_TIMESTAMP: {
        bool date = p->t.kind == T_DATE;
        next_tok(p);
        if (p->t.kind != T_STRING) return err_here(p, date ? "expected 'YYYY-MM-DD' after DATE"
                                                           : "expected a quoted timestamp after TIMESTAMP");
        lit->pos = p->t.pos;
        lit->s = unquote(p->s + p->t.pos, p->t.len, &lit->slen);
        if (!lit->s) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        int64_t v;
        if (date ? !hx_ds_parse_date(lit->s, lit->slen, &v) : !hx_ds_parse_timestamp_us(lit->s, lit->slen, &v))
            return err_here(p, date ? "bad date (expected 'YYYY-MM-DD')" : "bad timestamp");
        lit->kind = date ? DS_L_DATE : DS_L_TIMESTAMP;
        lit->i = v;
        break;
    }
    case T_NULL:
        return err_here(p, "comparison with NULL is never true (use IS NULL)");
    default:
        return err_here(p, "expected a literal");
    }
    next_tok(p);
    return HOIST_OK;
}

static enum ds_cmp flip(enum ds_cmp op) {
    switch (op) {
    case DS_LT: return DS_GT;
    case DS_LE: return DS_GE;
    case DS_GT: return DS_LT;
    case DS_GE: return DS_LE;
    default: return op;
    }
}

static hx_status parse_expr(struct parser *p, struct ds_node **out);

static hx_status parse_pred(struct parser *p, struct ds_node **out) {
    struct ds_node *n = node_new(DS_N_CMP);
    if (!n) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    hx_status st = HOIST_OK;
    if (is_literal_start(p->t.kind)) {
        /* literal op column: flip into column op literal. */
        n->lits = hx_calloc(1, sizeof *n->lits);
        if (!n->lits) {
            st = hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
            goto fail;
        }
        n->nlits = 1;
        if ((st = parse_literal(p, &n->lits[0])) != HOIST_OK) goto fail;
        if (p->t.kind != T_OP) {
            st = err_here(p, "expected a comparison operator");
            goto fail;
        }
        n->op = flip(p->t.op);
        next_tok(p);
        if ((st = parse_column(p, n)) != HOIST_OK) goto fail;
        *out = n;
        return HOIST_OK;
    }
    if ((st = parse_column(p, n)) != HOIST_OK) goto fail;
    if (p->t.kind == T_OP) {
        n->op = p->t.op;
        next_tok(p);
        if (p->t.kind == T_IDENT || p->t.kind == T_QIDENT) {
            st = err_here(p, "comparing two columns is not supported (expected a literal)");
            goto fail;
        }
        n->lits = hx_calloc(1, sizeof *n->lits);
        if (!n->lits) {
            st = hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
            goto fail;
        }
        n->nlits = 1;
        if ((st = parse_literal(p, &n->lits[0])) != HOIST_OK) goto fail;
    } else if (p->t.kind == T_IS) {
        n->kind = DS_N_IS_NULL;
        next_tok(p);
        if (p->t.kind == T_NOT) {
            n->negate = true;
            next_tok(p);
        }
        if (p->t.kind != T_NULL) {
            st = err_here(p, "expected NULL");
            goto fail;
        }
        next_tok(p);
    } else if (p->t.kind == T_IN || p->t.kind == T_NOT) {
        n->kind = DS_N_IN;
        if (p->t.kind == T_NOT) {
            n->negate = true;
            next_tok(p);
            if (p->t.kind != T_IN) {
                st = err_here(p, "expected IN");
                goto fail;
            }
        }
        next_tok(p);
        if (p->t.kind != T_LPAREN) {
            st = err_here(p, "expected '(' after IN");
            goto fail;
        }
        next_tok(p);
        size_t cap = 0;
        for (;;) {
            if (n->nlits == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                struct ds_lit *nl = hx_realloc(n->lits, ncap * sizeof *nl);
                if (!nl) {
                    st = hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
                    goto fail;
                }
                n->lits = nl;
                cap = ncap;
            }
            n->nlits++;
            if ((st = parse_literal(p, &n->lits[n->nlits - 1])) != HOIST_OK) {
                /* the failed literal may hold nothing or a string */
                goto fail;
            }
            if (p->t.kind == T_COMMA) {
                next_tok(p);
                continue;
            }
            if (p->t.kind == T_RPAREN) {
                next_tok(p);
                break;
            }
            st = err_here(p, "expected ',' or ')' in the IN list");
            goto fail;
        }
    } else {
        st = err_here(p, "expected a comparison operator, IN or IS");
        goto fail;
    }
    *out = n;
    return HOIST_OK;
fail:
    node_free(n);
    return st;
}

static hx_status parse_primary(struct parser *p, struct ds_node **out) {
    if (p->t.kind == T_LPAREN) {
        int open_pos = p->t.pos;
        next_tok(p);
        HX_TRY(parse_expr(p, out));
        if (p->t.kind != T_RPAREN) {
            node_free(*out);
            *out = NULL;
            if (p->t.kind == T_END)
                return syntax_error(p->s, open_pos, 1, "unclosed '('");
            return err_here(p, "expected ')'");
        }
        next_tok(p);
        return HOIST_OK;
    }
    if ((p->t.kind == T_TRUE || p->t.kind == T_FALSE)) {
        /* A bare TRUE/FALSE (not "TRUE = col"). */
        struct parser save = *p;
        bool v = p->t.kind == T_TRUE;
        next_tok(p);
        if (p->t.kind != T_OP) {
            struct ds_node *n = node_new(DS_N_CONST);
            if (!n) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
            n->const_value = v;
            *out = n;
            return HOIST_OK;
        }
        *p = save;
    }
    if (p->t.kind == T_END) return err_here(p, "");
    return parse_pred(p, out);
}

static hx_status parse_not(struct parser *p, struct ds_node **out) {
    if (p->t.kind == T_NOT) {
        next_tok(p);
        struct ds_node *inner = NULL;
        HX_TRY(parse_not(p, &inner));
        struct ds_node *n = node_new(DS_N_NOT);
        if (!n) {
            node_free(inner);
            return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        }
        n->a = inner;
        *out = n;
        return HOIST_OK;
    }
    return parse_primary(p, out);
}

static hx_status parse_binary(struct parser *p, enum tok_kind op, struct ds_node **out) {
    struct ds_node *left = NULL;
    HX_TRY(op == T_OR ? parse_binary(p, T_AND, &left) : parse_not(p, &left));
    while (p->t.kind == op) {
        next_tok(p);
        struct ds_node *right = NULL;
        hx_status st = op == T_OR ? parse_binary(p, T_AND, &right) : parse_not(p, &right);
        if (st != HOIST_OK) {
            node_free(left);
            return st;
        }
        struct ds_node *n = node_new(op == T_OR ? DS_N_OR : DS_N_AND);
        if (!n) {
            node_free(left);
            node_free(right);
            return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        }
        n->a = left;
        n->b = right;
        left = n;
    }
    *out = left;
    return HOIST_OK;
}

static hx_status parse_expr(struct parser *p, struct ds_node **out) { return parse_binary(p, T_OR, out); }

static enum ds_cmp negate_cmp(enum ds_cmp op) {
    switch (op) {
    case DS_EQ: return DS_NE;
    case DS_NE: return DS_EQ;
    case DS_LT: return DS_GE;
    case DS_LE: return DS_GT;
    case DS_GT: return DS_LE;
    default: return DS_LT;
    }
}

/* Pushes NOT into the leaves; neg says whether an odd number of NOTs is
 * above n. Returns the node that replaces n. */
static struct ds_node *push_not(struct ds_node *n, bool neg) {
    switch (n->kind) {
    case DS_N_NOT: {
        struct ds_node *inner = n->a;
        n->a = NULL;
        node_free(n);
        return push_not(inner, !neg);
    }
    case DS_N_AND:
    case DS_N_OR:
        if (neg) n->kind = n->kind == DS_N_AND ? DS_N_OR : DS_N_AND;
        n->a = push_not(n->a, neg);
        n->b = push_not(n->b, neg);
        return n;
    case DS_N_CMP:
        if (neg) n->op = negate_cmp(n->op);
        return n;
    case DS_N_IN:
    case DS_N_IS_NULL:
        if (neg) n->negate = !n->negate;
        return n;
    case DS_N_CONST:
        if (neg) n->const_value = !n->const_value;
        return n;
    }
    return n;
}

static hx_status collect_columns(struct ds_filter *f, struct ds_node *n) {
    if (!n) return HOIST_OK;
    HX_TRY(collect_columns(f, n->a));
    HX_TRY(collect_columns(f, n->b));
    if (!n->column) return HOIST_OK;
    for (size_t i = 0; i < f->ncolumns; i++)
        if (strcmp(f->columns[i], n->column) == 0) return HOIST_OK;
    char **nc = hx_realloc(f->columns, (f->ncolumns + 1) * sizeof *nc);
    if (!nc) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    f->columns = nc;
    if (!(f->columns[f->ncolumns] = hx_strdup(n->column))) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    f->ncolumns++;
    return HOIST_OK;
}

hx_status hx_ds_filter_parse(const char *expr, struct ds_filter **out) {
    *out = NULL;
    if (!expr) return hx_error(HOIST_ERR_INVALID_ARG, "filter: NULL expression");
    struct ds_filter *f = hx_calloc(1, sizeof *f);
    if (!f) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    if (!(f->text = hx_strdup(expr))) {
        hx_free(f);
        return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
    }
    struct parser p = {f->text, {T_END, 0, 0, DS_EQ}, f};
    next_tok(&p);
    hx_status st;
    if (p.t.kind == T_END) {
        st = syntax_error(f->text, 0, 0, "empty expression");
        goto fail;
    }
    if ((st = parse_expr(&p, &f->root)) != HOIST_OK) goto fail;
    if (p.t.kind != T_END) {
        st = err_here(&p, "unexpected token (expected AND, OR or the end)");
        goto fail;
    }
    f->root = push_not(f->root, false);
    if ((st = collect_columns(f, f->root)) != HOIST_OK) goto fail;
    *out = f;
    return HOIST_OK;
fail:
    hx_ds_filter_free(f);
    return st;
}

/* ---- decimals --------------------------------------------------------------
 * Decimal columns are compared in their own scale with integer arithmetic:
 * a literal such as 12.345 against scale 2 becomes 1234 plus "a fraction
 * above it" rather than a double, so no rounding can move a row across the
 * boundary (x > 12.345 is x >= 12.35). 256 bits hold every decimal256. */

bool hx_ds_decimal_format(const char *fmt, int *precision, int *scale, int *bits) {
    if (!fmt || fmt[0] != 'd' || fmt[1] != ':') return false;
    const char *p = fmt + 2;
    char *end;
    errno = 0;
    long prec = strtol(p, &end, 10);
    if (end == p || *end != ',' || errno || prec < 1 || prec > 76) return false;
    p = end + 1;
    long sc = strtol(p, &end, 10);
    if (end == p || errno || sc < -1000 || sc > 1000) return false;
    long bw = 128;
    if (*end == ',') {
        p = end + 1;
        bw = strtol(p, &end, 10);
        if (end == p || errno) return false;
    }
    if (*end != '\0' || (bw != 32 && bw != 64 && bw != 128 && bw != 256)) return false;
    *precision = (int)prec;
    *scale = (int)sc;
    *bits = (int)bw;
    return true;
}

static void dec_from_i64(uint64_t w[4], int64_t v) {
    w[0] = (uint64_t)v;
    w[1] = w[2] = w[3] = v < 0 ? UINT64_MAX : 0;
}

void hx_ds_decimal_from_i64(int64_t v, uint64_t w[4]) { dec_from_i64(w, v); }

static void dec_from_i128(uint64_t w[4], __int128 v) {
    w[0] = (uint64_t)v;
    w[1] = (uint64_t)((unsigned __int128)v >> 64);
    w[2] = w[3] = v < 0 ? UINT64_MAX : 0;
}

/* Loads element j of a decimal array of `bits` width (little-endian, as
 * Arrow stores them on every platform hoist builds for). */
static void dec_load(const void *buf, int64_t j, int bits, uint64_t w[4]) {
    const uint8_t *p = (const uint8_t *)buf + j * (bits / 8);
    if (bits == 32) {
        int32_t v;
        memcpy(&v, p, 4);
        dec_from_i64(w, v);
    } else if (bits == 64) {
        int64_t v;
        memcpy(&v, p, 8);
        dec_from_i64(w, v);
    } else if (bits == 128) {
        __int128 v;
        memcpy(&v, p, 16);
        dec_from_i128(w, v);
    } else {
        memcpy(w, p, 32);
    }
}

void hx_ds_decimal_from_be(const uint8_t *b, size_t n, uint64_t w[4]) {
    /* sign-extend to 32 bytes, then read them as little-endian words */
    uint8_t le[32];
    memset(le, (b[0] & 0x80) ? 0xff : 0, sizeof le);
    for (size_t i = 0; i < n && i < sizeof le; i++) le[i] = b[n - 1 - i];
    dec_load(le, 0, 256, w);
}

static int dec_cmp_words(const uint64_t a[4], const uint64_t b[4]) {
    bool na = (a[3] >> 63) != 0, nb = (b[3] >> 63) != 0;
    if (na != nb) return na ? -1 : 1;
    /* Same sign: two's complement orders like unsigned. */
    for (int k = 3; k >= 0; k--)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* Orders two decimal values of one scale as the numbers they stand for
 * (dec + dec_frac / 2 stands in for "between dec and dec + 1"). */
static int dec_cmp(const struct ds_value *a, const struct ds_value *b) {
    if (a->dec_inf != b->dec_inf) return a->dec_inf < b->dec_inf ? -1 : 1;
    if (a->dec_inf) return 0;
    int c = dec_cmp_words(a->dec, b->dec);
    if (c) return c;
    return (a->dec_frac > b->dec_frac) - (a->dec_frac < b->dec_frac);
}

/* w = w * 10 + digit on a non-negative magnitude below 10^76 (fits). */
static void dec_mul10_add(uint64_t w[4], unsigned digit) {
    unsigned __int128 carry = digit;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 x = (unsigned __int128)w[k] * 10u + carry;
        w[k] = (uint64_t)x;
        carry = x >> 64;
    }
}

static void dec_negate(uint64_t w[4]) {
    unsigned __int128 carry = 1;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 x = (unsigned __int128)(~w[k]) + carry;
        w[k] = (uint64_t)x;
        carry = x >> 64;
    }
}

/* Converts the numeric literal text at s (as the tokenizer accepted it:
 * [+-]digits[.digits][e[+-]digits]) to the decimal domain at `scale`. */
static void dec_from_text(const char *s, int scale, struct ds_value *v) {
    memset(v, 0, sizeof *v);
    v->kind = DS_V_DECIMAL;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    /* Significant digits (leading zeros dropped) and where the point is.
     * parse_literal rejected tokens of 64 characters or more. */
    char digits[64];
    int nd = 0, frac_digits = 0;
    bool seen_point = false;
    for (; (isdigit((unsigned char)*s) || *s == '.') && nd < (int)sizeof digits; s++) {
        if (*s == '.') {
            seen_point = true;
            continue;
        }
        if (seen_point) frac_digits++;
        if (nd == 0 && *s == '0') continue;
        digits[nd++] = *s;
    }
    long exp10 = 0;
    if (*s == 'e' || *s == 'E') {
        errno = 0;
        exp10 = strtol(s + 1, NULL, 10);
        if (errno || exp10 > 100000) exp10 = 100000;
        if (exp10 < -100000) exp10 = -100000;
    }
    if (nd == 0) return; /* zero, whatever the exponent */
    /* value = digits * 10^k in units of the scale */
    long k = exp10 - frac_digits + scale;
    long int_digits = nd + k;
    if (int_digits > 76) {
        /* >= 10^76: beyond every decimal256 (precision <= 76). */
        v->dec_inf = neg ? -1 : 1;
        return;
    }
    int keep = k >= 0 ? nd : (int)(int_digits > 0 ? int_digits : 0);
    for (int i = 0; i < keep; i++) dec_mul10_add(v->dec, (unsigned)(digits[i] - '0'));
    for (long i = 0; i < k; i++) dec_mul10_add(v->dec, 0);
    bool frac = false;
    for (int i = keep; i < nd; i++) frac = frac || digits[i] != '0';
    if (neg) {
        /* floor(-(m + f)) = -(m + 1) for 0 < f < 1 */
        if (frac) {
            unsigned __int128 carry = 1;
            for (int w = 0; w < 4 && carry; w++) {
                unsigned __int128 x = (unsigned __int128)v->dec[w] + carry;
                v->dec[w] = (uint64_t)x;
                carry = x >> 64;
            }
        }
        dec_negate(v->dec);
    }
    v->dec_frac = frac;
}

/* ---- binding -------------------------------------------------------------- */

enum ds_vkind hx_ds_format_vkind(const char *fmt) {
    if (!fmt || !*fmt) return DS_V_NONE;
    if (fmt[1] == '\0') {
        switch (fmt[0]) {
        case 'c': case 'C': case 's': case 'S': case 'i': case 'I': case 'l': case 'L':
            return DS_V_INT;
        case 'e': case 'f': case 'g':
            return DS_V_DOUBLE;
        case 'u': case 'U': case 'z': case 'Z':
            return DS_V_BYTES;
        case 'b':
            return DS_V_BOOL;
        default:
            return DS_V_NONE;
        }
    }
    if (fmt[0] == 't' && (fmt[1] == 'd' || fmt[1] == 's' || fmt[1] == 't' || fmt[1] == 'D')) return DS_V_INT;
    int prec, scale, bits;
    if (hx_ds_decimal_format(fmt, &prec, &scale, &bits)) return DS_V_DECIMAL;
    return DS_V_NONE;
}

/* Arrow unit of a temporal format per second: ts{s,m,u,n}, tt{s,m,u,n}. */
static int64_t unit_per_second(const char *fmt) {
    switch (fmt[2]) {
    case 's': return 1;
    case 'm': return 1000;
    case 'u': return 1000000;
    case 'n': return 1000000000;
    default: return 0;
    }
}

static hx_status bind_lit(const struct ds_filter *f, const struct ds_node *n, struct ds_lit *lit, const char *fmt) {
    enum ds_vkind vk = hx_ds_format_vkind(fmt);
    const char *name = n->column;
    memset(&lit->v, 0, sizeof lit->v);
    bool temporal = fmt[0] == 't';
    bool is_date32 = strcmp(fmt, "tdD") == 0, is_date64 = strcmp(fmt, "tdm") == 0;
    bool is_ts = fmt[0] == 't' && fmt[1] == 's';
    switch (vk) {
    case DS_V_INT:
        if (lit->kind == DS_L_INT && !temporal) {
            lit->v.kind = DS_V_INT;
            lit->v.i = lit->i;
            return HOIST_OK;
        }
        if (lit->kind == DS_L_FLOAT && !temporal) {
            lit->v.kind = DS_V_DOUBLE;
            lit->v.d = lit->d;
            return HOIST_OK;
        }
        if (temporal && (is_date32 || is_date64 || is_ts) &&
            (lit->kind == DS_L_STRING || lit->kind == DS_L_DATE || lit->kind == DS_L_TIMESTAMP)) {
            int64_t us;
            if (!hx_ds_parse_timestamp_us(lit->s, lit->slen, &us))
                return syntax_error(f->text, lit->pos, (int)lit->slen + 2,
                                    "not a date or timestamp for a temporal column");
            lit->v.kind = DS_V_INT;
            if (is_date32) {
                /* A date column against a timestamp literal: compare days,
                 * rounding so that `d >= '2024-01-01 12:00'` excludes that day. */
                __int128 day = 86400000000LL;
                __int128 q = us / day;
                if (us % day != 0) {
                    /* Keep the literal's position between days exact by
                     * comparing in microseconds instead. */
                    lit->v.kind = DS_V_DOUBLE;
                    lit->v.d = (double)us / 86400e6;
                    return HOIST_OK;
                }
                lit->v.i = q;
            } else if (is_date64) {
                lit->v.i = us / 1000;
            } else {
                int64_t ups = unit_per_second(fmt);
                lit->v.i = ups >= 1000000 ? (__int128)us * (ups / 1000000) : (__int128)us / (1000000 / ups);
            }
            return HOIST_OK;
        }
        if (temporal && lit->kind == DS_L_INT) {
            lit->v.kind = DS_V_INT;
            lit->v.i = lit->i;
            return HOIST_OK;
        }
        break;
    case DS_V_DOUBLE:
        if (lit->kind == DS_L_INT || lit->kind == DS_L_FLOAT) {
            lit->v.kind = DS_V_DOUBLE;
            lit->v.d = lit->kind == DS_L_INT ? (double)lit->i : lit->d;
            return HOIST_OK;
        }
        break;
    case DS_V_BYTES:
        if (lit->kind == DS_L_STRING) {
            lit->v.kind = DS_V_BYTES;
            lit->v.b = (const uint8_t *)lit->s;
            lit->v.blen = lit->slen;
            return HOIST_OK;
        }
        break;
    case DS_V_DECIMAL:
        if (lit->kind == DS_L_INT || lit->kind == DS_L_FLOAT) {
            /* From the literal's text, not its double: exact in any scale. */
            int prec, scale, bits;
            (void)hx_ds_decimal_format(fmt, &prec, &scale, &bits);
            dec_from_text(f->text + lit->pos, scale, &lit->v);
            return HOIST_OK;
        }
        break;
    case DS_V_BOOL:
        if (lit->kind == DS_L_BOOL || (lit->kind == DS_L_INT && (lit->i == 0 || lit->i == 1))) {
            lit->v.kind = DS_V_BOOL;
            lit->v.i = lit->i;
            return HOIST_OK;
        }
        break;
    default: {
        char what[160];
        snprintf(what, sizeof what, "column '%s' has type '%s', which filters do not support", name, fmt);
        return syntax_error(f->text, n->column_pos, (int)strlen(name), what);
    }
    }
    static const char *const lk[] = {"an integer", "a number", "a string", "a boolean", "a date", "a timestamp"};
    char what[200];
    snprintf(what, sizeof what, "%s does not match the type of column '%s' (%s)", lk[lit->kind], name, fmt);
    return syntax_error(f->text, lit->pos, 1, what);
}

static hx_status bind_node(struct ds_filter *f, struct ds_node *n, const char *const *names,
                           const char *const *formats, size_t ncols) {
    if (!n) return HOIST_OK;
    HX_TRY(bind_node(f, n->a, names, formats, ncols));
    HX_TRY(bind_node(f, n->b, names, formats, ncols));
    if (!n->column) return HOIST_OK;
    int idx = -1;
    for (size_t i = 0; i < ncols; i++)
        if (strcmp(names[i], n->column) == 0) {
            idx = (int)i;
            break;
        }
    if (idx < 0) {
        char what[300];
        snprintf(what, sizeof what, "unknown column '%s'", n->column);
        return syntax_error(f->text, n->column_pos, (int)strlen(n->column), what);
    }
    n->col = idx;
    for (size_t i = 0; i < n->nlits; i++) HX_TRY(bind_lit(f, n, &n->lits[i], formats[idx]));
    return HOIST_OK;
}

hx_status hx_ds_filter_bind(struct ds_filter *f, const char *const *names, const char *const *formats,
                            size_t ncols) {
    return bind_node(f, f->root, names, formats, ncols);
}

/* ---- pruning --------------------------------------------------------------- */

static int cmp_values(const struct ds_value *a, const struct ds_value *b) {
    if (a->kind == DS_V_DECIMAL && b->kind == DS_V_DECIMAL) return dec_cmp(a, b);
    if (a->kind == DS_V_BYTES || b->kind == DS_V_BYTES) {
        size_t n = a->blen < b->blen ? a->blen : b->blen;
        int c = n ? memcmp(a->b, b->b, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return (a->blen > b->blen) - (a->blen < b->blen);
    }
    if (a->kind == DS_V_DOUBLE || b->kind == DS_V_DOUBLE) {
        long double x = a->kind == DS_V_DOUBLE ? (long double)a->d : (long double)a->i;
        long double y = b->kind == DS_V_DOUBLE ? (long double)b->d : (long double)b->i;
        return (x > y) - (x < y);
    }
    return (a->i > b->i) - (a->i < b->i);
}

static bool comparable(const struct ds_value *a, const struct ds_value *b) {
    bool an = a->kind == DS_V_INT || a->kind == DS_V_DOUBLE || a->kind == DS_V_BOOL;
    bool bn = b->kind == DS_V_INT || b->kind == DS_V_DOUBLE || b->kind == DS_V_BOOL;
    return (an && bn) || (a->kind == DS_V_BYTES && b->kind == DS_V_BYTES) ||
           (a->kind == DS_V_DECIMAL && b->kind == DS_V_DECIMAL);
}

static bool leaf_may_match(const struct ds_node *n, const struct ds_colstats *s) {
    if (!s->known) return true;
    if (s->has_null_count && s->num_values == 0) return false;
    bool all_null = s->has_null_count && s->null_count >= s->num_values;
    if (n->kind == DS_N_IS_NULL) {
        if (!s->has_null_count) return true;
        return n->negate ? !all_null : s->null_count > 0;
    }
    if (all_null) return false;
    if (!s->has_minmax) return true;
    if (n->kind == DS_N_CMP) {
        const struct ds_value *v = &n->lits[0].v;
        if (!comparable(v, &s->min) || !comparable(v, &s->max)) return true;
        int lo = cmp_values(&s->min, v), hi = cmp_values(&s->max, v);
        switch (n->op) {
        case DS_EQ: return lo <= 0 && hi >= 0;
        case DS_NE: return !(lo == 0 && hi == 0);
        case DS_LT: return lo < 0;
        case DS_LE: return lo <= 0;
        case DS_GT: return hi > 0;
        case DS_GE: return hi >= 0;
        }
        return true;
    }
    if (n->kind == DS_N_IN) {
        if (!n->negate) {
            for (size_t i = 0; i < n->nlits; i++) {
                const struct ds_value *v = &n->lits[i].v;
                if (!comparable(v, &s->min)) return true;
                if (cmp_values(&s->min, v) <= 0 && cmp_values(&s->max, v) >= 0) return true;
            }
            return false;
        }
        if (cmp_values(&s->min, &s->max) != 0) return true;
        for (size_t i = 0; i < n->nlits; i++)
            if (comparable(&n->lits[i].v, &s->min) && cmp_values(&s->min, &n->lits[i].v) == 0) return false;
        return true;
    }
    return true;
}

static bool node_may_match(const struct ds_node *n, const struct ds_colstats *stats) {
    switch (n->kind) {
    case DS_N_AND: return node_may_match(n->a, stats) && node_may_match(n->b, stats);
    case DS_N_OR: return node_may_match(n->a, stats) || node_may_match(n->b, stats);
    case DS_N_CONST: return n->const_value;
    case DS_N_NOT: return true;
    default: return n->col < 0 ? true : leaf_may_match(n, &stats[n->col]);
    }
}

bool hx_ds_filter_may_match(const struct ds_filter *f, const struct ds_colstats *stats) {
    return !f || !f->root || node_may_match(f->root, stats);
}

/* ---- evaluation on arrays ------------------------------------------------------
 * Each node yields one byte per row: 0 FALSE, 1 TRUE, 2 NULL (Kleene). */

enum { V_FALSE = 0, V_TRUE = 1, V_NULL = 2 };

static inline bool is_valid(const struct ArrowArray *a, int64_t i) {
    const uint8_t *bm = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (!bm) return true;
    int64_t j = i + a->offset;
    return (bm[j >> 3] >> (j & 7)) & 1;
}

/* Physical integer width (bytes) and signedness of an integer-like format;
 * 0 if it is not one. */
static int int_width(const char *f, bool *sign) {
    *sign = true;
    if (f[1] == '\0') {
        switch (f[0]) {
        case 'c': return 1;
        case 'C': *sign = false; return 1;
        case 's': return 2;
        case 'S': *sign = false; return 2;
        case 'i': return 4;
        case 'I': *sign = false; return 4;
        case 'l': return 8;
        case 'L': *sign = false; return 8;
        default: return 0;
        }
    }
    if (strcmp(f, "tdD") == 0 || strcmp(f, "tts") == 0 || strcmp(f, "ttm") == 0) return 4;
    if (f[0] == 't') return 8; /* tdm, ts?, ttu, ttn, tD? */
    return 0;
}

static inline uint8_t apply_op(enum ds_cmp op, int c) {
    switch (op) {
    case DS_EQ: return c == 0;
    case DS_NE: return c != 0;
    case DS_LT: return c < 0;
    case DS_LE: return c <= 0;
    case DS_GT: return c > 0;
    default: return c >= 0;
    }
}

/* The common case -- an integer or float column against one number --
 * gets a tight loop per physical type (the generic path below goes through
 * __int128 values one row at a time). Returns false when it does not apply. */
#define CMP_LOOP(T, LIT)                                                                           \
    do {                                                                                           \
        const T *v = (const T *)a->buffers[1] + a->offset;                                         \
        switch (n->op) {                                                                           \
        case DS_EQ: for (int64_t i = 0; i < len; i++) res[i] = v[i] == (LIT); break;               \
        case DS_NE: for (int64_t i = 0; i < len; i++) res[i] = v[i] != (LIT); break;               \
        case DS_LT: for (int64_t i = 0; i < len; i++) res[i] = v[i] < (LIT); break;                \
        case DS_LE: for (int64_t i = 0; i < len; i++) res[i] = v[i] <= (LIT); break;               \
        case DS_GT: for (int64_t i = 0; i < len; i++) res[i] = v[i] > (LIT); break;                \
        default: for (int64_t i = 0; i < len; i++) res[i] = v[i] >= (LIT); break;                  \
        }                                                                                          \
    } while (0)

static bool eval_fast(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, int64_t len,
                      uint8_t *res) {
    if (n->kind != DS_N_CMP) return false;
    const struct ds_value *lit = &n->lits[0].v;
    bool sign;
    int w = int_width(fmt, &sign);
    if (w && sign && lit->kind == DS_V_INT && lit->i >= INT64_MIN && lit->i <= INT64_MAX) {
        /* A literal outside the column's range still compares right once
         * both sides are int64. */
        int64_t x = (int64_t)lit->i;
        switch (w) {
        case 1: CMP_LOOP(int8_t, (int64_t)x); break;
        case 2: CMP_LOOP(int16_t, (int64_t)x); break;
        case 4: CMP_LOOP(int32_t, (int64_t)x); break;
        default: CMP_LOOP(int64_t, x); break;
        }
    } else if ((fmt[0] == 'g' || fmt[0] == 'f') && fmt[1] == '\0' && lit->kind == DS_V_DOUBLE) {
        /* IEEE comparisons are false for NaN except !=, as required. */
        double x = lit->d;
        if (fmt[0] == 'g')
            CMP_LOOP(double, x);
        else
            CMP_LOOP(float, x);
    } else {
        return false;
    }
    const uint8_t *bm = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (bm)
        for (int64_t i = 0; i < len; i++) {
            int64_t j = i + a->offset;
            if (!((bm[j >> 3] >> (j & 7)) & 1)) res[i] = V_NULL;
        }
    return true;
}

/* A decimal array against a comparison or IN list (literals bound to the
 * column's scale). decimal128 against one literal that fits 128 bits, the
 * common case, compares native __int128 values. Returns false when fmt is
 * not a decimal. */
static bool eval_decimal(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, int64_t len,
                         uint8_t *res) {
    int prec, scale, bits;
    if (!hx_ds_decimal_format(fmt, &prec, &scale, &bits)) return false;
    const uint8_t *buf = a->buffers[1];
    const struct ds_value *lit = n->kind == DS_N_CMP ? &n->lits[0].v : NULL;
    bool lit128 = lit && lit->kind == DS_V_DECIMAL && !lit->dec_inf &&
                  lit->dec[2] == ((lit->dec[1] >> 63) ? UINT64_MAX : 0) && lit->dec[3] == lit->dec[2];
    if (bits == 128 && lit128) {
        __int128 q = (__int128)(((unsigned __int128)lit->dec[1] << 64) | lit->dec[0]);
        enum ds_cmp op = n->op;
        if (lit->dec_frac) {
            /* The literal lies in (q, q + 1): nothing equals it, and below
             * it means <= q. */
            if (op == DS_EQ || op == DS_NE) {
                memset(res, op == DS_NE ? V_TRUE : V_FALSE, (size_t)len);
                goto nulls;
            }
            op = op == DS_LT || op == DS_LE ? DS_LE : DS_GT;
        }
        const uint8_t *p = buf + a->offset * 16;
        for (int64_t i = 0; i < len; i++) {
            __int128 x;
            memcpy(&x, p + i * 16, 16);
            res[i] = apply_op(op, (x > q) - (x < q));
        }
    } else {
        struct ds_value x = {.kind = DS_V_DECIMAL};
        for (int64_t i = 0; i < len; i++) {
            dec_load(buf, i + a->offset, bits, x.dec);
            if (n->kind == DS_N_CMP) {
                res[i] = apply_op(n->op, cmp_values(&x, lit));
            } else {
                uint8_t hit = 0;
                for (size_t k = 0; k < n->nlits && !hit; k++) hit = cmp_values(&x, &n->lits[k].v) == 0;
                res[i] = n->negate ? !hit : hit;
            }
        }
    }
nulls:;
    const uint8_t *bm = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (bm)
        for (int64_t i = 0; i < len; i++) {
            int64_t j = i + a->offset;
            if (!((bm[j >> 3] >> (j & 7)) & 1)) res[i] = V_NULL;
        }
    return true;
}

/* Compares every row of a numeric/bool/string array with the leaf. */
static void eval_leaf_values(const struct ds_node *n, const struct ArrowArray *a, const char *fmt, int64_t len,
                             uint8_t *res) {
    if (eval_fast(n, a, fmt, len, res)) return;
    if (eval_decimal(n, a, fmt, len, res)) return;
    bool sign;
    int w = int_width(fmt, &sign);
    for (int64_t i = 0; i < len; i++) {
        if (!is_valid(a, i)) {
            res[i] = V_NULL;
            continue;
        }
        struct ds_value x = {0};
        int64_t j = i + a->offset;
        if (w) {
            const void *p = a->buffers[1];
            x.kind = DS_V_INT;
            switch (w) {
            case 1: x.i = sign ? (__int128)((const int8_t *)p)[j] : (__int128)((const uint8_t *)p)[j]; break;
            case 2: x.i = sign ? (__int128)((const int16_t *)p)[j] : (__int128)((const uint16_t *)p)[j]; break;
            case 4: x.i = sign ? (__int128)((const int32_t *)p)[j] : (__int128)((const uint32_t *)p)[j]; break;
            default: x.i = sign ? (__int128)((const int64_t *)p)[j] : (__int128)((const uint64_t *)p)[j]; break;
            }
        } else if (fmt[0] == 'f' || fmt[0] == 'g') {
            x.kind = DS_V_DOUBLE;
            x.d = fmt[0] == 'f' ? (double)((const float *)a->buffers[1])[j] : ((const double *)a->buffers[1])[j];
        } else if (fmt[0] == 'b') {
            const uint8_t *bm = a->buffers[1];
            x.kind = DS_V_BOOL;
            x.i = (bm[j >> 3] >> (j & 7)) & 1;
        } else if (fmt[0] == 'u' || fmt[0] == 'z') {
            const int32_t *off = a->buffers[1];
            x.kind = DS_V_BYTES;
            x.b = (const uint8_t *)a->buffers[2] + off[j];
            x.blen = (size_t)(off[j + 1] - off[j]);
        } else if (fmt[0] == 'U' || fmt[0] == 'Z') {
            const int64_t *off = a->buffers[1];
            x.kind = DS_V_BYTES;
            x.b = (const uint8_t *)a->buffers[2] + off[j];
            x.blen = (size_t)(off[j + 1] - off[j]);
        } else {
            res[i] = V_NULL;
            continue;
        }
        if (x.kind == DS_V_DOUBLE && x.d != x.d) {
            /* NaN compares false with everything except != (IEEE, as Arrow compute). */
            if (n->kind == DS_N_CMP)
                res[i] = n->op == DS_NE;
            else
                res[i] = n->negate;
            continue;
        }
        if (n->kind == DS_N_CMP) {
            res[i] = apply_op(n->op, cmp_values(&x, &n->lits[0].v));
        } else {
            uint8_t hit = 0;
            for (size_t k = 0; k < n->nlits && !hit; k++) hit = cmp_values(&x, &n->lits[k].v) == 0;
            res[i] = n->negate ? !hit : hit;
        }
    }
}

static hx_status eval_leaf(const struct ds_node *n, const struct ArrowArray *a, const char *fmt,
                           const char *dict_fmt, int64_t len, uint8_t *res) {
    if (!a) {
        /* Column absent from this file: every value is null. */
        memset(res, n->kind == DS_N_IS_NULL ? (n->negate ? V_FALSE : V_TRUE) : V_NULL, (size_t)len);
        return HOIST_OK;
    }
    if (n->kind == DS_N_IS_NULL) {
        for (int64_t i = 0; i < len; i++) res[i] = is_valid(a, i) != n->negate ? V_FALSE : V_TRUE;
        return HOIST_OK;
    }
    if (a->dictionary && dict_fmt) {
        /* Evaluate once per dictionary entry, then map the indices. */
        const struct ArrowArray *d = a->dictionary;
        uint8_t *dres = hx_malloc(d->length > 0 ? (size_t)d->length : 1);
        if (!dres) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        eval_leaf_values(n, d, dict_fmt, d->length, dres);
        bool sign;
        int w = int_width(fmt, &sign);
        for (int64_t i = 0; i < len; i++) {
            if (!is_valid(a, i)) {
                res[i] = V_NULL;
                continue;
            }
            int64_t j = i + a->offset, k;
            switch (w) {
            case 1: k = ((const int8_t *)a->buffers[1])[j]; break;
            case 2: k = ((const int16_t *)a->buffers[1])[j]; break;
            case 4: k = ((const int32_t *)a->buffers[1])[j]; break;
            default: k = ((const int64_t *)a->buffers[1])[j]; break;
            }
            res[i] = k >= 0 && k < d->length ? dres[k] : V_NULL;
        }
        hx_free(dres);
        return HOIST_OK;
    }
    eval_leaf_values(n, a, fmt, len, res);
    return HOIST_OK;
}

static hx_status eval_node(const struct ds_node *n, const struct ArrowArray *const *cols,
                           const char *const *formats, const char *const *dict_formats, int64_t len,
                           uint8_t *res) {
    if (n->kind == DS_N_CONST) {
        memset(res, n->const_value ? V_TRUE : V_FALSE, (size_t)len);
        return HOIST_OK;
    }
    if (n->kind == DS_N_AND || n->kind == DS_N_OR) {
        HX_TRY(eval_node(n->a, cols, formats, dict_formats, len, res));
        uint8_t *tmp = hx_malloc(len > 0 ? (size_t)len : 1);
        if (!tmp) return hx_error(HOIST_ERR_NOMEM, "filter: out of memory");
        hx_status st = eval_node(n->b, cols, formats, dict_formats, len, tmp);
        if (st == HOIST_OK) {
            if (n->kind == DS_N_AND) {
                for (int64_t i = 0; i < len; i++)
                    res[i] = (res[i] == V_FALSE || tmp[i] == V_FALSE) ? V_FALSE
                             : (res[i] == V_NULL || tmp[i] == V_NULL) ? V_NULL
                                                                      : V_TRUE;
            } else {
                for (int64_t i = 0; i < len; i++)
                    res[i] = (res[i] == V_TRUE || tmp[i] == V_TRUE) ? V_TRUE
                             : (res[i] == V_NULL || tmp[i] == V_NULL) ? V_NULL
                                                                      : V_FALSE;
            }
        }
        hx_free(tmp);
        return st;
    }
    if (n->col < 0) return hx_error(HOIST_ERR_INTERNAL, "filter: column '%s' not bound", n->column);
    return eval_leaf(n, cols[n->col], formats[n->col], dict_formats ? dict_formats[n->col] : NULL, len, res);
}

hx_status hx_ds_filter_eval(const struct ds_filter *f, const struct ArrowArray *const *cols,
                            const char *const *formats, const char *const *dict_formats, int64_t length,
                            uint8_t *keep) {
    if (!f || !f->root) {
        memset(keep, 1, (size_t)length);
        return HOIST_OK;
    }
    HX_TRY(eval_node(f->root, cols, formats, dict_formats, length, keep));
    for (int64_t i = 0; i < length; i++) keep[i] = keep[i] == V_TRUE;
    return HOIST_OK;
}
