/*
 * Capacity planning with linstor-ffi: how many 50 GiB volumes with 3 replicas (one per zone)
 * fit in a cluster, and what happens to them when one zone fails.
 *
 *   usage: capacity_plan [nodes_per_zone (default 3)] [pool_gib (default 1024)]
 *
 * Build (from the repository root, after `cargo build -p linstor-ffi`):
 *   gcc -I linstor-ffi/include linstor-ffi/examples/capacity_plan.c \
 *       -L target/debug -llinstor_ffi -Wl,-rpath,$PWD/target/debug -o capacity_plan
 */
#include <stdio.h>
#include <stdlib.h>

#include "linstor.h"

#define MAX_NODES 64
#define MAX_VOLUMES 100000

static const char *ZONES[] = {"a", "b", "c"};

/* Prints a failure with LINSTOR's cause and correction, frees the error. */
static void report(const char *what, linstor_result rc, linstor_error *err) {
    fprintf(stderr, "%s failed (%u: %s): %s\n", what, (unsigned)rc, linstor_result_text(rc).data,
            err ? linstor_error_message(err).data : "");
    if (linstor_error_cause(err).data) fprintf(stderr, "  cause:      %s\n", linstor_error_cause(err).data);
    if (linstor_error_correction(err).data)
        fprintf(stderr, "  correction: %s\n", linstor_error_correction(err).data);
    linstor_error_free(err);
}

#define TRY(what, call)                                                                        \
    do {                                                                                       \
        linstor_error *err_ = NULL;                                                            \
        linstor_result rc_ = (call);                                                           \
        if (rc_ != LINSTOR_OK) {                                                               \
            report(what, rc_, err_);                                                           \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)
#define ERR (&err_)

int main(int argc, char **argv) {
    int per_zone = argc > 1 ? atoi(argv[1]) : 3;
    unsigned long long pool_gib = argc > 2 ? strtoull(argv[2], NULL, 10) : 1024;
    if (per_zone < 1 || per_zone * 3 > MAX_NODES || pool_gib == 0) {
        fprintf(stderr, "usage: %s [nodes_per_zone 1..21] [pool_gib > 0]\n", argv[0]);
        return 2;
    }

    /* The cluster: 3 zones, per_zone nodes each, one thick LVM pool per node. */
    linstor_cluster *c = NULL;
    if (linstor_cluster_new(1, &c) != LINSTOR_OK) return 1;
    char nodes[MAX_NODES][16];
    int n_nodes = 0;
    for (int z = 0; z < 3; z++) {
        for (int i = 1; i <= per_zone; i++) {
            char *name = nodes[n_nodes++];
            snprintf(name, sizeof nodes[0], "node-%s%d", ZONES[z], i);
            TRY("node create", linstor_cluster_node_create(c, name, LINSTOR_NODE_SATELLITE, NULL, ERR));
            TRY("label", linstor_cluster_node_set_label(c, name, "zone", ZONES[z], ERR));
            TRY("online", linstor_cluster_node_set_online(c, name, true, ERR));
            TRY("pool", linstor_cluster_storage_pool_create(c, name, "pool_ssd", LINSTOR_PROVIDER_LVM,
                                                            "vg_ssd", pool_gib << 20, ERR));
        }
    }

    /* Three replicas, in three different zones. */
    linstor_select_filter *f = NULL;
    TRY("filter", linstor_select_filter_new(&f));
    TRY("filter", linstor_select_filter_set_place_count(f, 3, ERR));
    TRY("filter", linstor_select_filter_add_replicas_on_different(f, "Aux/zone", ERR));
    TRY("group", linstor_cluster_resource_group_create(c, "planner", f, ERR));
    linstor_select_filter_free(f);
    TRY("volume group", linstor_cluster_volume_group_create(c, "planner", NULL, ERR));

    /* 1. Spawn 50 GiB volumes until the autoplacer refuses. */
    uint64_t size = 50ull << 20; /* KiB */
    int fitted = 0;
    linstor_error *refusal = NULL;
    for (int v = 0; v < MAX_VOLUMES; v++) {
        char name[32];
        snprintf(name, sizeof name, "vol_%05d", v);
        linstor_placement *p = NULL;
        linstor_error *err = NULL;
        linstor_result rc = linstor_cluster_spawn(c, "planner", name, &size, 1, NULL, &p, &err);
        if (rc == LINSTOR_PLACEMENT_REFUSED) {
            refusal = err;
            break;
        }
        if (rc != LINSTOR_OK) {
            report("spawn", rc, err);
            return 1;
        }
        size_t placed = linstor_placement_diskful_count(p);
        linstor_placement_free(p);
        if (placed != 3) {
            printf("spawn placed %zu replicas (expected 3): stopping\n", placed);
            break;
        }
        fitted++;
    }
    printf("cluster: 3 zones x %d nodes, one %llu GiB LVM pool each (%llu GiB raw)\n", per_zone,
           pool_gib, pool_gib * (unsigned long long)n_nodes);
    printf("%d volumes of 50 GiB with 3 replicas (one per zone) fit\n", fitted);
    if (refusal) {
        printf("volume %d was refused: %s\n", fitted + 1, linstor_error_message(refusal).data);
        printf("  cause:      %s\n", linstor_error_cause(refusal).data);
        printf("  correction: %s\n", linstor_error_correction(refusal).data);
        linstor_error_free(refusal);
    }
    if (fitted == 0) {
        linstor_cluster_free(c);
        return 0;
    }

    /* 2. Zone a fails: which volumes can still be written from zones b and c? */
    const char *survivors[MAX_NODES];
    int n_surv = 0;
    for (int i = 0; i < n_nodes; i++)
        if (nodes[i][5] != 'a') survivors[n_surv++] = nodes[i];
    int writable = 0;
    for (int v = 0; v < fitted; v++) {
        char name[32];
        snprintf(name, sizeof name, "vol_%05d", v);
        bool w = false;
        TRY("may write", linstor_cluster_partition_may_write(c, name, survivors, (size_t)n_surv, &w, ERR));
        writable += w;
    }
    linstor_quorum *q = NULL;
    TRY("quorum", linstor_cluster_quorum(c, "vol_00000", &q, ERR));
    printf("zone a fails: %d of %d volumes keep quorum (quorum=%s, %zu diskful replicas each, "
           "2 survive) and stay writable\n",
           writable, fitted, linstor_quorum_value(q).data, linstor_quorum_get_counts(q).diskful);
    linstor_quorum_free(q);

    /* 3. Zone a is gone for good: can the third replica be rebuilt elsewhere? */
    for (int i = 0; i < n_nodes; i++)
        if (nodes[i][5] == 'a') TRY("node lost", linstor_cluster_node_lost(c, nodes[i], ERR));
    linstor_placement *p = NULL;
    TRY("placement", linstor_cluster_resource_placement(c, "vol_00000", &p, ERR));
    printf("after zone a is lost, vol_00000 has %zu replicas\n", linstor_placement_len(p));
    linstor_placement_free(p);
    linstor_error *err = NULL;
    linstor_result rc = linstor_cluster_plan_placement(c, "planner", "vol_00000", size, NULL, &p, &err);
    if (rc == LINSTOR_OK) {
        printf("the third replica can be rebuilt on %zu new node(s)\n", linstor_placement_len(p));
        linstor_placement_free(p);
    } else {
        printf("the third replica cannot be rebuilt: %s\n", linstor_error_message(err).data);
        printf("  cause:      %s\n", linstor_error_cause(err).data);
        printf("  correction: %s\n", linstor_error_correction(err).data);
        linstor_error_free(err);
    }
    linstor_cluster_free(c);
    return 0;
}
