//! The indexes serve the hot queries (count a PODM's Valence-made nodes, page through a PODM's
//! nodes or devices) without a table scan or a sort, checked on the query plans of both backends.

use diesel::connection::SimpleConnection;
use diesel::{QueryableByName, RunQueryDsl};
use valence_db::{Backend, DbConnection};

use crate::harness::{TestDb, backend_tests};

backend_tests!(hot_queries_use_indexes);

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PostgresPlanRow {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Each query (in the shape the repository sends) and the index that must serve it.
const HOT_QUERIES: &[(&str, &str)] = &[
    (
        "SELECT COUNT(*) FROM nodes WHERE podm_uuid = 'p' AND managed_by = 'valence'",
        "nodes_podm_uuid_managed_by_idx",
    ),
    (
        "SELECT * FROM nodes WHERE podm_uuid = 'p' ORDER BY created_at, uuid LIMIT 50",
        "nodes_podm_uuid_created_at_uuid_idx",
    ),
    (
        "SELECT * FROM nodes WHERE podm_uuid = 'p' AND created_at >= '2025-01-01' \
         AND (created_at > '2025-01-01' OR uuid > 'm') ORDER BY created_at, uuid LIMIT 50",
        "nodes_podm_uuid_created_at_uuid_idx",
    ),
    (
        "SELECT * FROM nodes ORDER BY created_at, uuid LIMIT 50",
        "nodes_created_at_uuid_idx",
    ),
    (
        "SELECT * FROM devices WHERE podm_uuid = 'p' ORDER BY created_at, uuid LIMIT 50",
        "devices_podm_uuid_created_at_uuid_idx",
    ),
];

fn hot_queries_use_indexes(t: &TestDb) {
    let mut conn = t.conn();
    for (query, index) in HOT_QUERIES {
        let plan: Vec<String> = match &mut *conn {
            DbConnection::Sqlite(sqlite) => {
                diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
                    .load::<SqlitePlanRow>(sqlite)
                    .unwrap()
                    .into_iter()
                    .map(|row| row.detail)
                    .collect()
            }
            DbConnection::Postgresql(pg) => {
                // Empty tables make a scan the cheapest plan; forbid it to see what is usable.
                pg.batch_execute("SET enable_seqscan = off; SET enable_sort = off")
                    .unwrap();
                diesel::sql_query(format!("EXPLAIN {query}"))
                    .load::<PostgresPlanRow>(pg)
                    .unwrap()
                    .into_iter()
                    .map(|row| row.line)
                    .collect()
            }
        };
        let plan = plan.join("\n");
        match t.backend {
            // SQLite's planner is rule-based: the intended index must be the one chosen.
            Backend::Sqlite => {
                assert!(
                    plan.contains(index),
                    "{query}\nshould use {index}, plan:\n{plan}"
                )
            }
            // PostgreSQL picks by cost, which on empty tables is arbitrary between usable
            // indexes: require an index scan (a scan would still be chosen if none could serve).
            Backend::Postgres => assert!(
                plan.contains("Index") && !plan.contains("Seq Scan"),
                "{query}\nshould use an index, plan:\n{plan}"
            ),
        }
        assert!(
            !plan.contains("TEMP B-TREE"),
            "{query}\nneeds a sort:\n{plan}"
        );
        assert!(!plan.contains("Sort"), "{query}\nneeds a sort:\n{plan}");
    }
}
