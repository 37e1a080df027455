/*
 * Calls every function of linstor.h, including its error paths (NULL pointers, invalid UTF-8,
 * invalid names, JSON that is not a cluster state, refusals), and frees everything it gets.
 * Driven by tests/c_api.rs, which compiles it with gcc and runs it (also under valgrind).
 * Exit code 0 and "N passed, 0 failed" when every check holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linstor.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
        }                                                                                      \
    } while (0)

/* A linstor_str equals a C string (and is NUL-terminated at len). */
static int str_eq(linstor_str s, const char *want) {
    return s.data != NULL && s.len == strlen(want) && memcmp(s.data, want, s.len) == 0 &&
           s.data[s.len] == '\0';
}

static int str_contains(linstor_str s, const char *needle) {
    return s.data != NULL && strstr(s.data, needle) != NULL;
}

/* Checks that a call failed with `want`, that the error object agrees, then frees it. */
static void expect_fail(linstor_result rc, linstor_result want, linstor_error *err, int line) {
    if (rc != want || err == NULL || linstor_error_code(err) != want ||
        linstor_error_message(err).data == NULL) {
        failed++;
        fprintf(stderr, "FAILED line %d: got %u (want %u): %s\n", line, (unsigned)rc,
                (unsigned)want, err ? linstor_error_message(err).data : "(no error object)");
    } else {
        passed++;
    }
    linstor_error_free(err);
}
#define EXPECT_FAIL(call, want)                                                                \
    do {                                                                                       \
        linstor_error *e_ = NULL;                                                              \
        linstor_result r_ = (call);                                                            \
        expect_fail(r_, (want), e_, __LINE__);                                                 \
    } while (0)
/* The macros below use `&e_` as the error out-parameter. */
#define ERR (&e_)

static void expect_ok(linstor_result rc, linstor_error *err, int line) {
    if (rc != LINSTOR_OK) {
        failed++;
        fprintf(stderr, "FAILED line %d: %u: %s\n", line, (unsigned)rc,
                err ? linstor_error_message(err).data : "(no error object)");
    } else {
        passed++;
    }
    linstor_error_free(err);
}
#define EXPECT_OK(call)                                                                        \
    do {                                                                                       \
        linstor_error *e_ = NULL;                                                              \
        linstor_result r_ = (call);                                                            \
        expect_ok(r_, e_, __LINE__);                                                           \
    } while (0)

static const char BAD_UTF8[] = {'n', (char)0xff, (char)0xfe, 'x', 0};

static void test_static(void) {
    linstor_str v = linstor_version();
    CHECK(v.data != NULL && v.len > 0 && v.data[v.len] == '\0');
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", LINSTOR_FFI_VERSION_MAJOR, LINSTOR_FFI_VERSION_MINOR,
             LINSTOR_FFI_VERSION_PATCH);
    CHECK(str_eq(v, want));
    CHECK(str_eq(linstor_result_text(LINSTOR_OK), "success"));
    CHECK(str_eq(linstor_result_text(LINSTOR_NOT_FOUND), "object not found"));
    CHECK(str_eq(linstor_result_text(9999), "unknown result code"));
}

static void test_null_getters(void) {
    CHECK(linstor_error_code(NULL) == LINSTOR_NULL_PARAMETER);
    CHECK(linstor_error_ret_code(NULL) == 0);
    CHECK(linstor_error_message(NULL).data == NULL);
    CHECK(linstor_error_cause(NULL).data == NULL);
    CHECK(linstor_error_correction(NULL).data == NULL);
    CHECK(linstor_error_details(NULL).data == NULL);
    CHECK(linstor_string_get(NULL).data == NULL);
    CHECK(linstor_placement_resource(NULL).data == NULL);
    CHECK(linstor_placement_len(NULL) == 0);
    CHECK(linstor_placement_diskful_count(NULL) == 0);
    linstor_replica r;
    CHECK(linstor_placement_get(NULL, 0, &r) == LINSTOR_NULL_PARAMETER);
    /* _free(NULL) does nothing. */
    linstor_error_free(NULL);
    linstor_string_free(NULL);
    linstor_placement_free(NULL);
    linstor_select_filter_free(NULL);
    linstor_cluster_free(NULL);
    passed++;
}

static void test_names_and_sizes(void) {
    EXPECT_OK(linstor_name_check(LINSTOR_NAME_RESOURCE, "pvc-1234", ERR));
    EXPECT_OK(linstor_name_check(LINSTOR_NAME_NODE, "node-1.example.com", ERR));
    /* The broken rule is the cause. */
    linstor_error *err = NULL;
    linstor_result rc = linstor_name_check(LINSTOR_NAME_RESOURCE, "1abc", &err);
    CHECK(rc == LINSTOR_INVALID_NAME);
    CHECK(str_contains(linstor_error_cause(err), "must start with"));
    CHECK(linstor_error_correction(err).data != NULL);
    CHECK(linstor_error_ret_code(err) == 0);
    linstor_error_free(err);
    EXPECT_FAIL(linstor_name_check(LINSTOR_NAME_RESOURCE, "all", ERR), LINSTOR_INVALID_NAME);
    EXPECT_FAIL(linstor_name_check(77, "abc", ERR), LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_name_check(LINSTOR_NAME_NODE, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_name_check(LINSTOR_NAME_NODE, BAD_UTF8, ERR), LINSTOR_INVALID_UTF8);
    /* err_out may be NULL. */
    CHECK(linstor_name_check(LINSTOR_NAME_NODE, "-bad", NULL) == LINSTOR_INVALID_NAME);

    uint64_t kib = 7;
    EXPECT_OK(linstor_size_parse("50G", &kib, ERR));
    CHECK(kib == 50ull * 1024 * 1024);
    EXPECT_OK(linstor_size_parse("4096K", &kib, ERR));
    CHECK(kib == 4096);
    kib = 7;
    EXPECT_FAIL(linstor_size_parse("lots", &kib, ERR), LINSTOR_INVALID_ARGUMENT);
    CHECK(kib == 7); /* out-parameter untouched on failure */
    EXPECT_FAIL(linstor_size_parse("1G", NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_size_parse(NULL, &kib, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_size_parse(BAD_UTF8, &kib, ERR), LINSTOR_INVALID_UTF8);
}

static void test_filter(void) {
    CHECK(linstor_select_filter_new(NULL) == LINSTOR_NULL_PARAMETER);
    linstor_select_filter *f = NULL;
    CHECK(linstor_select_filter_new(&f) == LINSTOR_OK && f != NULL);
    EXPECT_OK(linstor_select_filter_set_place_count(f, 3, ERR));
    EXPECT_FAIL(linstor_select_filter_set_place_count(f, 99, ERR), LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_select_filter_set_place_count(NULL, 2, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_OK(linstor_select_filter_add_replicas_on_different(f, "Aux/zone", ERR));
    EXPECT_FAIL(linstor_select_filter_add_replicas_on_different(f, "bad key", ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_select_filter_add_replicas_on_different(f, NULL, ERR),
                LINSTOR_NULL_PARAMETER);
    EXPECT_OK(linstor_select_filter_add_replicas_on_same(f, "Aux/site=eu", ERR));
    EXPECT_FAIL(linstor_select_filter_add_replicas_on_same(f, "", ERR), LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_select_filter_add_replicas_on_same(f, BAD_UTF8, ERR),
                LINSTOR_INVALID_UTF8);
    EXPECT_OK(linstor_select_filter_add_storage_pool(f, "pool_ssd", ERR));
    EXPECT_FAIL(linstor_select_filter_add_storage_pool(f, "p", ERR), LINSTOR_INVALID_NAME);
    EXPECT_OK(linstor_select_filter_add_node(f, "node-a1", ERR));
    EXPECT_FAIL(linstor_select_filter_add_node(f, "no_underscores", ERR), LINSTOR_INVALID_NAME);
    EXPECT_OK(linstor_select_filter_set_diskless_on_remaining(f, true, ERR));
    EXPECT_FAIL(linstor_select_filter_set_diskless_on_remaining(NULL, true, ERR),
                LINSTOR_NULL_PARAMETER);

    linstor_string *json = NULL;
    EXPECT_OK(linstor_select_filter_to_json(f, &json, ERR));
    linstor_str j = linstor_string_get(json);
    CHECK(str_contains(j, "\"place_count\":3"));
    CHECK(str_contains(j, "Aux/zone"));
    CHECK(str_contains(j, "pool_ssd"));
    EXPECT_FAIL(linstor_select_filter_to_json(f, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_select_filter_to_json(NULL, &json, ERR), LINSTOR_NULL_PARAMETER);

    linstor_select_filter *g = NULL;
    EXPECT_OK(linstor_select_filter_from_json(j.data, &g, ERR));
    CHECK(g != NULL);
    linstor_select_filter_free(g);
    linstor_string_free(json);
    g = NULL;
    EXPECT_FAIL(linstor_select_filter_from_json("{not json", &g, ERR), LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_select_filter_from_json("{\"place_count\": \"three\"}", &g, ERR),
                LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_select_filter_from_json("{\"node_name_list\": [\"bad name\"]}", &g, ERR),
                LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_select_filter_from_json(NULL, &g, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_select_filter_from_json("{}", NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_select_filter_from_json(BAD_UTF8, &g, ERR), LINSTOR_INVALID_UTF8);
    CHECK(g == NULL);
    linstor_select_filter_free(f);
}

static const char *ZONES[] = {"a", "b", "c"};

/* Six nodes in three zones, one 1 TiB thin pool each. */
static linstor_cluster *make_cluster(void) {
    linstor_cluster *c = NULL;
    CHECK(linstor_cluster_new(42, &c) == LINSTOR_OK && c != NULL);
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "node-%s%d", ZONES[i % 3], i / 3 + 1);
        EXPECT_OK(linstor_cluster_node_create(c, name, LINSTOR_NODE_SATELLITE, NULL, ERR));
        EXPECT_OK(linstor_cluster_node_set_label(c, name, "zone", ZONES[i % 3], ERR));
        EXPECT_OK(linstor_cluster_node_set_online(c, name, true, ERR));
        EXPECT_OK(linstor_cluster_storage_pool_create(c, name, "pool_ssd", LINSTOR_PROVIDER_LVM_THIN,
                                                      NULL, 1024ull * 1024 * 1024, ERR));
    }
    return c;
}

static void test_cluster_errors(linstor_cluster *c) {
    CHECK(linstor_cluster_new(1, NULL) == LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_node_create(NULL, "x1", 0, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_node_create(c, NULL, 0, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_node_create(c, BAD_UTF8, 0, NULL, ERR), LINSTOR_INVALID_UTF8);
    EXPECT_FAIL(linstor_cluster_node_create(c, "x1", 42, NULL, ERR), LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_node_create(c, "-x", 0, NULL, ERR), LINSTOR_INVALID_NAME);
    EXPECT_FAIL(linstor_cluster_node_create(c, "node-a1", 0, NULL, ERR), LINSTOR_ALREADY_EXISTS);
    EXPECT_FAIL(linstor_cluster_node_create(c, "x1", 0, "not-an-ip", ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_OK(linstor_cluster_node_create(c, "aux-1", LINSTOR_NODE_AUXILIARY, "10.9.9.9", ERR));
    EXPECT_FAIL(linstor_cluster_node_set_online(c, "ghost", true, ERR), LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_node_set_online(NULL, "ghost", true, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_node_set_label(c, "node-a1", "", "x", ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_node_set_label(c, "node-a1", NULL, "x", ERR),
                LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_node_set_label(c, "ghost", "zone", "x", ERR), LINSTOR_NOT_FOUND);
    EXPECT_OK(linstor_cluster_node_set_label(c, "aux-1", "Aux/rack", "r1", ERR));
    EXPECT_OK(linstor_cluster_node_set_label(c, "aux-1", "rack", NULL, ERR)); /* removes */
    EXPECT_FAIL(linstor_cluster_storage_pool_create(c, "aux-1", "pool_ssd",
                                                    LINSTOR_PROVIDER_LVM, NULL, 0, ERR),
                LINSTOR_REFUSED);
    EXPECT_FAIL(linstor_cluster_storage_pool_create(c, "node-a1", "pool_x", 99, NULL, 0, ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_storage_pool_create(c, "node-a1", "p", LINSTOR_PROVIDER_LVM, NULL,
                                                    0, ERR),
                LINSTOR_INVALID_NAME);
    EXPECT_FAIL(linstor_cluster_storage_pool_create(c, "node-a1", "pool_x", LINSTOR_PROVIDER_LVM,
                                                    "bad vg name!", 0, ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_storage_pool_create(c, "node-a1", "pool_ssd",
                                                    LINSTOR_PROVIDER_LVM, NULL, 0, ERR),
                LINSTOR_ALREADY_EXISTS);
    EXPECT_OK(linstor_cluster_storage_pool_create(c, "node-a1", "pool_hdd", LINSTOR_PROVIDER_LVM,
                                                  "vg_hdd", 0, ERR));
    EXPECT_OK(linstor_cluster_storage_pool_set_capacity(c, "node-a1", "pool_hdd", 100, 200, ERR));
    EXPECT_FAIL(linstor_cluster_storage_pool_set_capacity(c, "node-a1", "pool_hdd", 300, 200, ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_storage_pool_set_capacity(c, "node-a1", "nope", 1, 2, ERR),
                LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_storage_pool_set_capacity(c, NULL, "nope", 1, 2, ERR),
                LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_resource_group_create(c, "9rg", NULL, ERR), LINSTOR_INVALID_NAME);
    EXPECT_FAIL(linstor_cluster_resource_group_create(c, "DfltRscGrp", NULL, ERR),
                LINSTOR_ALREADY_EXISTS);
    EXPECT_FAIL(linstor_cluster_resource_group_set_filter(c, "DfltRscGrp", NULL, ERR),
                LINSTOR_NULL_PARAMETER);
    /* Deletes are idempotent, as in LINSTOR: deleting what does not exist is a no-op. */
    EXPECT_OK(linstor_cluster_resource_group_delete(c, "nope_rg", ERR));
    EXPECT_FAIL(linstor_cluster_volume_group_create(c, "nope_rg", NULL, ERR), LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_resource_placement(c, "nope", NULL, ERR), LINSTOR_NULL_PARAMETER);
    linstor_placement *p = NULL;
    EXPECT_FAIL(linstor_cluster_resource_placement(c, "nope", &p, ERR), LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_resource_placement(c, "all", &p, ERR), LINSTOR_INVALID_NAME);
    CHECK(p == NULL);
    EXPECT_OK(linstor_cluster_resource_delete(c, "nope", ERR));
    EXPECT_OK(linstor_cluster_node_delete(c, "ghost", ERR));
    EXPECT_OK(linstor_cluster_node_lost(c, "ghost", ERR));
    EXPECT_FAIL(linstor_cluster_node_lost(c, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_OK(linstor_cluster_node_delete(c, "aux-1", ERR));
}

static void test_json(linstor_cluster *c) {
    linstor_string *s = NULL;
    EXPECT_OK(linstor_cluster_execute_json(
        c, "{\"cmd\":\"ctrl_props_modify\",\"props\":{\"override_props\":{\"Aux/planner\":\"yes\"}}}",
        &s, ERR));
    CHECK(str_contains(linstor_string_get(s), "\"entries\""));
    CHECK(str_contains(linstor_string_get(s), "ret_code"));
    linstor_string_free(s);
    s = NULL;
    EXPECT_OK(linstor_cluster_execute_json(
        c, "{\"cmd\":\"kvs_modify\",\"name\":\"plan\",\"props\":{\"override_props\":{\"a\":\"b\"}}}",
        NULL, ERR));
    EXPECT_FAIL(linstor_cluster_execute_json(c, "{\"cmd\":\"no_such_command\"}", &s, ERR),
                LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_cluster_execute_json(c, "[1,2", &s, ERR), LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_cluster_execute_json(c, NULL, &s, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_execute_json(c, BAD_UTF8, &s, ERR), LINSTOR_INVALID_UTF8);
    EXPECT_FAIL(linstor_cluster_execute_json(NULL, "{}", &s, ERR), LINSTOR_NULL_PARAMETER);
    /* A refusal carries LINSTOR's ret_code, cause and correction. */
    linstor_error *err = NULL;
    CHECK(linstor_cluster_execute_json(c, "{\"cmd\":\"rsc_grp_delete\",\"name\":\"DfltRscGrp\"}",
                                       &s, &err) != LINSTOR_OK);
    CHECK(linstor_error_ret_code(err) < 0); /* error severity bits set */
    linstor_error_free(err);
    CHECK(s == NULL);

    linstor_string *json = NULL;
    EXPECT_OK(linstor_cluster_to_json(c, &json, ERR));
    EXPECT_FAIL(linstor_cluster_to_json(c, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_to_json(NULL, &json, ERR), LINSTOR_NULL_PARAMETER);
    linstor_cluster *d = NULL;
    EXPECT_OK(linstor_cluster_from_json(linstor_string_get(json).data, 7, &d, ERR));
    linstor_string *json2 = NULL;
    EXPECT_OK(linstor_cluster_to_json(d, &json2, ERR));
    CHECK(strcmp(linstor_string_get(json).data, linstor_string_get(json2).data) == 0);
    linstor_string_free(json2);
    linstor_cluster_free(d);
    linstor_string_free(json);

    d = NULL;
    EXPECT_FAIL(linstor_cluster_from_json("not json", 1, &d, ERR), LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_cluster_from_json("{\"hello\": 1}", 1, &d, ERR), LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_cluster_from_json("[]", 1, &d, ERR), LINSTOR_INVALID_JSON);
    EXPECT_FAIL(linstor_cluster_from_json(NULL, 1, &d, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_from_json(BAD_UTF8, 1, &d, ERR), LINSTOR_INVALID_UTF8);
    EXPECT_FAIL(linstor_cluster_from_json("{}", 1, NULL, ERR), LINSTOR_NULL_PARAMETER);
    CHECK(d == NULL);
}

static void test_spawn(linstor_cluster *c) {
    linstor_select_filter *f = NULL;
    CHECK(linstor_select_filter_new(&f) == LINSTOR_OK);
    EXPECT_OK(linstor_select_filter_set_place_count(f, 3, ERR));
    EXPECT_OK(linstor_select_filter_add_replicas_on_different(f, "Aux/zone", ERR));
    EXPECT_OK(linstor_cluster_resource_group_create(c, "rg_three", f, ERR));
    EXPECT_OK(linstor_cluster_resource_group_set_filter(c, "rg_three", f, ERR));
    linstor_select_filter_free(f);
    uint16_t vg = 999;
    EXPECT_OK(linstor_cluster_volume_group_create(c, "rg_three", &vg, ERR));
    CHECK(vg == 0);
    EXPECT_OK(linstor_cluster_volume_group_create(c, "rg_three", NULL, ERR));

    uint64_t sizes[2] = {50ull * 1024 * 1024, 1024 * 1024};
    linstor_placement *p = NULL;
    EXPECT_OK(linstor_cluster_spawn(c, "rg_three", "vol_1", sizes, 2, NULL, &p, ERR));
    CHECK(p != NULL);
    CHECK(str_eq(linstor_placement_resource(p), "vol_1"));
    size_t n = linstor_placement_len(p);
    CHECK(n == 3 && linstor_placement_diskful_count(p) == 3);
    char zones[3] = {0};
    for (size_t i = 0; i < n; i++) {
        linstor_replica r;
        CHECK(linstor_placement_get(p, i, &r) == LINSTOR_OK);
        CHECK(str_eq(r.storage_pool, "pool_ssd") && !r.diskless && !r.tie_breaker);
        zones[r.node.data[5] - 'a'] = 1;
    }
    CHECK(zones[0] && zones[1] && zones[2]); /* one replica per zone */
    linstor_replica r;
    CHECK(linstor_placement_get(p, n, &r) == LINSTOR_OUT_OF_RANGE);
    CHECK(linstor_placement_get(p, 0, NULL) == LINSTOR_NULL_PARAMETER);
    linstor_placement_free(p);

    EXPECT_FAIL(linstor_cluster_spawn(c, "rg_three", "vol_1", sizes, 2, NULL, NULL, ERR),
                LINSTOR_ALREADY_EXISTS);
    EXPECT_FAIL(linstor_cluster_spawn(c, "rg_three", "vol_2", NULL, 2, NULL, NULL, ERR),
                LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_spawn(c, "rg_three", "vol_2", sizes, 1, NULL, NULL, ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_spawn(c, "nope_rg", "vol_2", sizes, 2, NULL, NULL, ERR),
                LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_spawn(c, "rg_three", "2bad", sizes, 2, NULL, NULL, ERR),
                LINSTOR_INVALID_NAME);

    p = NULL;
    EXPECT_OK(linstor_cluster_resource_placement(c, "vol_1", &p, ERR));
    CHECK(linstor_placement_len(p) == n);
    linstor_placement_free(p);

    /* A spawn that cannot be placed is refused with its explanation, and creates nothing. */
    uint64_t huge[2] = {100ull << 30, 1024}; /* 100 TiB: more than a thin pool promises */
    linstor_error *err = NULL;
    p = NULL;
    CHECK(linstor_cluster_spawn(c, "rg_three", "vol_huge", huge, 2, NULL, &p, &err) ==
          LINSTOR_PLACEMENT_REFUSED);
    CHECK(p == NULL);
    CHECK(str_contains(linstor_error_cause(err), "free space"));
    CHECK(linstor_error_correction(err).data != NULL);
    linstor_error_free(err);
    EXPECT_FAIL(linstor_cluster_resource_placement(c, "vol_huge", &p, ERR), LINSTOR_NOT_FOUND);

    /* Autoplace more replicas: a 4th one in another zone does not exist. */
    EXPECT_OK(linstor_cluster_autoplace(c, "vol_1", NULL, NULL, ERR)); /* already satisfied */
    linstor_select_filter *four = NULL;
    CHECK(linstor_select_filter_new(&four) == LINSTOR_OK);
    EXPECT_OK(linstor_select_filter_set_place_count(four, 4, ERR));
    err = NULL;
    CHECK(linstor_cluster_autoplace(c, "vol_1", four, &p, &err) == LINSTOR_PLACEMENT_REFUSED);
    CHECK(str_contains(linstor_error_cause(err), "replicas_on_different"));
    CHECK(linstor_error_correction(err).data != NULL);
    linstor_error_free(err);
    CHECK(p == NULL);
    /* Without the zone rule (another resource in a plain group), a 4th replica fits. */
    EXPECT_OK(linstor_cluster_spawn(c, "rg_manual", "vol_4", sizes, 1, NULL, NULL, ERR));
    EXPECT_OK(linstor_cluster_autoplace(c, "vol_4", four, &p, ERR));
    CHECK(linstor_placement_diskful_count(p) == 4);
    linstor_placement_free(p);
    linstor_select_filter_free(four);
    EXPECT_FAIL(linstor_cluster_autoplace(c, "nope", NULL, NULL, ERR), LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_autoplace(c, NULL, NULL, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_autoplace(NULL, "vol_1", NULL, NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_OK(linstor_cluster_resource_delete(c, "vol_4", ERR));

    EXPECT_FAIL(linstor_cluster_resource_group_delete(c, "rg_three", ERR), LINSTOR_ALREADY_EXISTS);
    EXPECT_OK(linstor_cluster_resource_delete(c, "vol_1", ERR));
    EXPECT_OK(linstor_cluster_resource_group_delete(c, "rg_three", ERR));
    EXPECT_OK(linstor_cluster_node_lost(c, "node-c2", ERR));
}

/* Explicit replicas through the JSON command entry point. */
static void place_on(linstor_cluster *c, const char *rsc, const char *node) {
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "{\"cmd\":\"rsc_create\",\"rsc_dfn\":\"%s\",\"node\":\"%s\","
             "\"storage_pool\":\"pool_ssd\"}",
             rsc, node);
    EXPECT_OK(linstor_cluster_execute_json(c, cmd, NULL, ERR));
}

static void test_plan_and_quorum(linstor_cluster *c) {
    linstor_select_filter *f = NULL;
    CHECK(linstor_select_filter_new(&f) == LINSTOR_OK);
    EXPECT_OK(linstor_select_filter_set_place_count(f, 3, ERR));
    EXPECT_OK(linstor_select_filter_add_replicas_on_different(f, "Aux/zone", ERR));

    /* A dry run: three replicas, one per zone, and nothing changes. */
    linstor_placement *p = NULL;
    EXPECT_OK(linstor_cluster_plan_placement(c, NULL, "planned", 50ull << 20, f, &p, ERR));
    CHECK(linstor_placement_len(p) == 3 && linstor_placement_diskful_count(p) == 3);
    char zones_seen[4] = {0};
    for (size_t i = 0; i < linstor_placement_len(p); i++) {
        linstor_replica r;
        CHECK(linstor_placement_get(p, i, &r) == LINSTOR_OK);
        CHECK(!r.diskless && str_eq(r.storage_pool, "pool_ssd"));
        zones_seen[r.node.data[5] - 'a'] = 1; /* "node-<zone><n>" */
    }
    CHECK(zones_seen[0] && zones_seen[1] && zones_seen[2]);
    linstor_placement_free(p);
    p = NULL;
    EXPECT_FAIL(linstor_cluster_resource_placement(c, "planned", &p, ERR), LINSTOR_NOT_FOUND);

    /* A refusal explains itself: 4 zones wanted, 3 exist. */
    EXPECT_OK(linstor_select_filter_set_place_count(f, 4, ERR));
    linstor_error *err = NULL;
    CHECK(linstor_cluster_plan_placement(c, NULL, "planned", 50ull << 20, f, &p, &err) ==
          LINSTOR_PLACEMENT_REFUSED);
    CHECK(linstor_error_code(err) == LINSTOR_PLACEMENT_REFUSED);
    CHECK(linstor_error_cause(err).data != NULL && linstor_error_cause(err).len > 0);
    CHECK(linstor_error_correction(err).data != NULL);
    CHECK(linstor_error_ret_code(err) < 0);
    (void)linstor_error_details(err); /* nearest misses, if any */
    linstor_error_free(err);
    CHECK(p == NULL);
    /* Too big for any pool. */
    EXPECT_OK(linstor_select_filter_set_place_count(f, 3, ERR));
    EXPECT_FAIL(linstor_cluster_plan_placement(c, NULL, "planned", 1ull << 40, f, &p, ERR),
                LINSTOR_PLACEMENT_REFUSED);
    /* No place count at all. */
    EXPECT_FAIL(linstor_cluster_plan_placement(c, NULL, "planned", 1024, NULL, &p, ERR),
                LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_cluster_plan_placement(c, "nope_rg", "planned", 1024, f, &p, ERR),
                LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_plan_placement(c, NULL, "9x", 1024, f, &p, ERR),
                LINSTOR_INVALID_NAME);
    EXPECT_FAIL(linstor_cluster_plan_placement(c, NULL, "planned", 1024, f, NULL, ERR),
                LINSTOR_NULL_PARAMETER);
    linstor_select_filter_free(f);

    /* Quorum: two explicit diskful replicas; the core adds the auto tiebreaker at once. */
    uint64_t size = 10ull << 20;
    EXPECT_OK(linstor_cluster_resource_group_create(c, "rg_manual", NULL, ERR));
    EXPECT_OK(linstor_cluster_volume_group_create(c, "rg_manual", NULL, ERR));
    EXPECT_OK(linstor_cluster_spawn(c, "rg_manual", "vol_q", &size, 1, NULL, NULL, ERR));
    place_on(c, "vol_q", "node-a1");
    place_on(c, "vol_q", "node-b1");
    linstor_quorum *q = NULL;
    EXPECT_OK(linstor_cluster_quorum(c, "vol_q", &q, ERR));
    linstor_quorum_counts n = linstor_quorum_get_counts(q);
    CHECK(n.diskful == 2 && n.diskless == 1 && n.tiebreakers == 1);
    CHECK(str_eq(linstor_quorum_value(q), "majority"));
    CHECK(!linstor_quorum_set_by_user(q));
    CHECK(linstor_quorum_tiebreaker(q) == LINSTOR_TIEBREAKER_NONE);
    linstor_quorum_free(q);
    p = NULL;
    EXPECT_OK(linstor_cluster_resource_placement(c, "vol_q", &p, ERR));
    int tiebreakers = 0;
    for (size_t i = 0; i < linstor_placement_len(p); i++) {
        linstor_replica r;
        CHECK(linstor_placement_get(p, i, &r) == LINSTOR_OK);
        if (r.tie_breaker) {
            tiebreakers++;
            CHECK(r.diskless && str_eq(r.storage_pool, "DfltDisklessStorPool"));
        }
    }
    CHECK(tiebreakers == 1 && linstor_placement_diskful_count(p) == 2);
    linstor_placement_free(p);

    /* With the auto tiebreaker switched off, two replicas run without quorum; switched on
     * again, the decision says where the tiebreaker goes. */
    EXPECT_OK(linstor_cluster_spawn(c, "rg_manual", "vol_t", &size, 1, NULL, NULL, ERR));
    EXPECT_OK(linstor_cluster_execute_json(
        c, "{\"cmd\":\"rsc_dfn_modify\",\"name\":\"vol_t\",\"props\":{\"override_props\":"
           "{\"DrbdOptions/auto-add-quorum-tiebreaker\":\"false\"}}}",
        NULL, ERR));
    place_on(c, "vol_t", "node-a1");
    place_on(c, "vol_t", "node-b1");
    q = NULL;
    EXPECT_OK(linstor_cluster_quorum(c, "vol_t", &q, ERR));
    CHECK(str_eq(linstor_quorum_value(q), "off"));
    CHECK(linstor_quorum_tiebreaker(q) == LINSTOR_TIEBREAKER_NONE);
    linstor_quorum_free(q);
    EXPECT_OK(linstor_cluster_execute_json(
        c, "{\"cmd\":\"rsc_dfn_modify\",\"name\":\"vol_t\",\"props\":{\"delete_props\":"
           "[\"DrbdOptions/auto-add-quorum-tiebreaker\"]}}",
        NULL, ERR));
    q = NULL;
    EXPECT_OK(linstor_cluster_quorum(c, "vol_t", &q, ERR));
    if (linstor_quorum_tiebreaker(q) == LINSTOR_TIEBREAKER_CREATE) {
        CHECK(linstor_quorum_tiebreaker_node(q).data != NULL);
        CHECK(!str_eq(linstor_quorum_tiebreaker_node(q), "node-a1"));
        CHECK(!str_eq(linstor_quorum_tiebreaker_node(q), "node-b1"));
    } else { /* the core already acted on the property change */
        CHECK(linstor_quorum_get_counts(q).tiebreakers == 1);
    }
    (void)linstor_quorum_tiebreaker_explanation(q);
    linstor_quorum_free(q);
    EXPECT_OK(linstor_cluster_resource_delete(c, "vol_t", ERR));

    place_on(c, "vol_q", "node-c1");
    q = NULL;
    EXPECT_OK(linstor_cluster_quorum(c, "vol_q", &q, ERR));
    CHECK(linstor_quorum_get_counts(q).diskful == 3);
    CHECK(str_eq(linstor_quorum_value(q), "majority"));
    CHECK(linstor_quorum_tiebreaker(q) == LINSTOR_TIEBREAKER_NONE);
    CHECK(linstor_quorum_tiebreaker_node(q).data == NULL);
    CHECK(linstor_quorum_tiebreaker_explanation(q).data == NULL);
    linstor_quorum_free(q);

    /* Zone a fails: zones b and c keep a majority; zone a alone does not. */
    const char *survivors[] = {"node-b1", "node-b2", "node-c1", "node-c2"};
    const char *zone_a[] = {"node-a1", "node-a2"};
    bool w = false;
    EXPECT_OK(linstor_cluster_partition_may_write(c, "vol_q", survivors, 4, &w, ERR));
    CHECK(w);
    w = true;
    EXPECT_OK(linstor_cluster_partition_may_write(c, "vol_q", zone_a, 2, &w, ERR));
    CHECK(!w);
    EXPECT_OK(linstor_cluster_partition_may_write(c, "vol_q", NULL, 0, &w, ERR));
    CHECK(!w);
    const char *bad[] = {"node-b1", NULL};
    EXPECT_FAIL(linstor_cluster_partition_may_write(c, "vol_q", bad, 2, &w, ERR),
                LINSTOR_NULL_PARAMETER);
    const char *badname[] = {"-x"};
    EXPECT_FAIL(linstor_cluster_partition_may_write(c, "vol_q", badname, 1, &w, ERR),
                LINSTOR_INVALID_NAME);
    EXPECT_FAIL(linstor_cluster_partition_may_write(c, "vol_q", NULL, 3, &w, ERR),
                LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_partition_may_write(c, "vol_q", survivors, 4, NULL, ERR),
                LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_partition_may_write(c, "nope", survivors, 4, &w, ERR),
                LINSTOR_NOT_FOUND);

    EXPECT_FAIL(linstor_cluster_quorum(c, "nope", &q, ERR), LINSTOR_NOT_FOUND);
    EXPECT_FAIL(linstor_cluster_quorum(c, "vol_q", NULL, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_quorum(NULL, "vol_q", &q, ERR), LINSTOR_NULL_PARAMETER);
    CHECK(linstor_quorum_value(NULL).data == NULL);
    CHECK(!linstor_quorum_set_by_user(NULL));
    CHECK(linstor_quorum_get_counts(NULL).diskful == 0);
    CHECK(linstor_quorum_tiebreaker(NULL) == LINSTOR_TIEBREAKER_NONE);
    CHECK(linstor_quorum_tiebreaker_node(NULL).data == NULL);
    CHECK(linstor_quorum_tiebreaker_explanation(NULL).data == NULL);
    linstor_quorum_free(NULL);

    EXPECT_OK(linstor_cluster_resource_delete(c, "vol_q", ERR));
}

static void test_sim(linstor_cluster *c) {
    CHECK(linstor_sim_cluster_default(NULL) == LINSTOR_NULL_PARAMETER);
    CHECK(linstor_sim_workload_default(NULL) == LINSTOR_NULL_PARAMETER);
    linstor_sim_cluster spec;
    linstor_sim_workload w;
    CHECK(linstor_sim_cluster_default(&spec) == LINSTOR_OK);
    CHECK(linstor_sim_workload_default(&w) == LINSTOR_OK);
    CHECK(spec.nodes > 0 && w.replicas == 3);

    linstor_sim_report r1, r2;
    EXPECT_OK(linstor_sim_run(&spec, &w, 5, &r1, ERR));
    CHECK(r1.spawned > 0 && r1.refusals == 1 && r1.placements == r1.spawned + 1);
    CHECK(r1.placed_fraction_of_bound > 0.5 && r1.placed_fraction_of_bound <= 1.0);
    CHECK(r1.bound_kib > 0 && r1.max_over_mean >= 1.0);
    EXPECT_OK(linstor_sim_run(&spec, &w, 5, &r2, ERR));
    CHECK(memcmp(&r1, &r2, sizeof r1) == 0); /* deterministic */
    w.strategy = LINSTOR_STRATEGY_LINSTOR;
    w.fail_every = 10;
    w.delete_percent = 20;
    w.resize_percent = 10;
    w.stop_at_first_refusal = false;
    w.ops = 200;
    EXPECT_OK(linstor_sim_run(&spec, &w, 5, &r2, ERR));
    CHECK(r2.failed_nodes > 0 && r2.deleted > 0);

    linstor_sim_report untouched = r1;
    linstor_sim_cluster bad = spec;
    bad.nodes = 0;
    EXPECT_FAIL(linstor_sim_run(&bad, &w, 5, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
    bad = spec;
    bad.zones = bad.nodes + 1;
    EXPECT_FAIL(linstor_sim_run(&bad, &w, 5, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
    linstor_sim_workload badw = w;
    badw.strategy = 7;
    EXPECT_FAIL(linstor_sim_run(&spec, &badw, 5, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
    badw = w;
    badw.size_max_gib = badw.size_min_gib - 1;
    EXPECT_FAIL(linstor_sim_run(&spec, &badw, 5, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
    badw = w;
    badw.delete_percent = 60;
    badw.resize_percent = 60;
    EXPECT_FAIL(linstor_sim_run(&spec, &badw, 5, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
    badw = w;
    badw.replicas = 0;
    EXPECT_FAIL(linstor_sim_run(&spec, &badw, 5, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
    EXPECT_FAIL(linstor_sim_run(NULL, &w, 5, &r1, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_sim_run(&spec, NULL, 5, &r1, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_sim_run(&spec, &w, 5, NULL, ERR), LINSTOR_NULL_PARAMETER);
    CHECK(memcmp(&r1, &untouched, sizeof r1) == 0); /* out-parameter untouched on failure */

    /* On the model's own state, which does not change. */
    linstor_string *before = NULL, *after = NULL;
    EXPECT_OK(linstor_cluster_to_json(c, &before, ERR));
    CHECK(linstor_sim_workload_default(&w) == LINSTOR_OK);
    w.ops = 100;
    EXPECT_OK(linstor_cluster_simulate(c, &w, 1, &r1, ERR));
    CHECK(r1.spawned > 0);
    EXPECT_OK(linstor_cluster_to_json(c, &after, ERR));
    CHECK(strcmp(linstor_string_get(before).data, linstor_string_get(after).data) == 0);
    linstor_string_free(before);
    linstor_string_free(after);
    EXPECT_FAIL(linstor_cluster_simulate(NULL, &w, 1, &r1, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_simulate(c, NULL, 1, &r1, ERR), LINSTOR_NULL_PARAMETER);
    EXPECT_FAIL(linstor_cluster_simulate(c, &w, 1, NULL, ERR), LINSTOR_NULL_PARAMETER);
    w.ops = 0;
    EXPECT_FAIL(linstor_cluster_simulate(c, &w, 1, &r1, ERR), LINSTOR_INVALID_ARGUMENT);
}

int main(void) {
    test_static();
    test_null_getters();
    test_names_and_sizes();
    test_filter();
    linstor_cluster *c = make_cluster();
    test_cluster_errors(c);
    test_json(c);
    test_plan_and_quorum(c);
    test_sim(c);
    test_spawn(c);
    linstor_cluster_free(c);
    printf("C API test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
