//! Replacing one tenant's rows in a live database: in one transaction, the tenant's current
//! rows are deleted (children first) and the backed-up rows inserted. Tables the backup does
//! not hold, and tables that cannot roll back, refuse the replace unless forced.

#[allow(unused_imports)]
use super::*;

pub(super) fn replace_tenant(
    target: &ServerTarget,
    request: &RestoreRequest,
    manifest: Option<&Manifest>,
    verified: bool,
    progress: &(dyn Fn(&RestoreProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<RestoreReport> {
    let manifest = manifest.ok_or_else(|| {
        Error::invalid(
            "file",
            "replacing a tenant needs a Billora Backup tenant backup with its manifest",
        )
    })?;
    let tenant_id = match (manifest.backup_type.as_str(), manifest.tenant_id) {
        ("tenant", Some(id)) => id,
        _ => {
            return Err(Error::invalid(
                "file",
                "this is not a tenant backup; restore it into a database instead",
            ))
        }
    };
    let column = manifest
        .tenant_column
        .clone()
        .unwrap_or_else(|| "tenant_id".into());
    let root = manifest
        .tenant_root_table
        .clone()
        .unwrap_or_else(|| "tenants".into());
    let db_target = target.for_database(Some(&request.database)).for_scripts();
    let mut conn = db_target.connect()?;
    let (mut guard, limit) = containment(&mut conn, &request.database, request)?;
    prescan(request, &mut guard, limit)?;
    prepare(&mut conn)?;
    let schema = schema::read(&mut conn, &request.database, false)?;
    let plan = tenant::plan(&schema, &column, &root, "id")?;
    // The delete plan comes from the live schema: every table it empties for the tenant must
    // be refilled from the backup, and a failure must roll every one of them back.
    let in_backup = |table: &str| manifest.tables.iter().any(|t| t.table == table);
    let missing: Vec<String> = plan
        .tables
        .iter()
        .filter(|p| !in_backup(&p.table))
        .map(|p| format!("`{}`", guard::printable(&p.table)))
        .collect();
    let non_transactional: Vec<String> = schema
        .tables
        .iter()
        .filter(|t| !t.is_transactional() && plan.tables.iter().any(|p| p.table == t.name))
        .map(|t| format!("`{}` ({})", guard::printable(&t.name), t.engine))
        .collect();
    let mut warnings = Vec::new();
    if !request.safety.force_replace && (!missing.is_empty() || !non_transactional.is_empty()) {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!(
                "{} not in the backup (added since it was made: the tenant's rows there would be \
                 deleted and not restored)",
                missing.join(", ")
            ));
        }
        if !non_transactional.is_empty() {
            problems.push(format!(
                "{} not transactional (a failure half-way could not be undone)",
                non_transactional.join(", ")
            ));
        }
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "tenant {tenant_id} was not replaced, nothing was changed: {}",
                problems.join("; ")
            ),
        )
        .with_field("mode")
        .with_hint(
            "restore the tenant backup into a new database and copy what you need, or replace \
             anyway with --force (the app asks first)",
        ));
    }
    for table in missing {
        warnings.push(format!(
            "table {table} is not in the backup: tenant {tenant_id}'s rows there were deleted and not restored"
        ));
    }
    for table in non_transactional {
        warnings.push(format!(
            "table {table} is not transactional: a failure could not have rolled it back"
        ));
    }
    let err = |e| db_error(e, "replacing the tenant");
    conn.query_drop("START TRANSACTION").map_err(err)?;
    let outcome = (|| -> Result<(u64, Vec<(String, u64)>)> {
        conn.exec_drop("SET @billora_tenant = ?", (tenant_id,))
            .map_err(err)?;
        // Children first: the longest foreign-key chains hang furthest from the tenant.
        let mut order: Vec<&tenant::TenantTable> = plan.tables.iter().collect();
        order.sort_by_key(|t| std::cmp::Reverse(t.path.len()));
        let root_last = |t: &&tenant::TenantTable| t.table == root;
        order.sort_by_key(|t| root_last(t));
        let mut deleted = Vec::new();
        for t in order {
            conn.query_drop(format!("DELETE t0 {}", t.from_where()))
                .map_err(err)?;
            deleted.push((t.table.clone(), conn.affected_rows()));
        }
        let reader = BufReader::with_capacity(1 << 20, open_backup(&request.file, &request.keys)?);
        let mut state = RestoreProgress {
            sql_bytes_total: Some(manifest.sql_bytes),
            tables_total: Some(manifest.tables.len() as u64),
            rows_total: Some(manifest.tables.iter().map(|t| t.rows).sum()),
            ..RestoreProgress::default()
        };
        let mut count = 0;
        for stmt in Statements::new(reader).with_limit(limit) {
            let stmt = stmt?;
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::new(
                    ErrorCode::Cancelled,
                    "the restore was cancelled",
                ));
            }
            // Only the rows: the schema of the live database stays as it is.
            if is_insert(&stmt) && guard.check(&stmt.sql, stmt.line)? == Verdict::Run {
                exec(&mut conn, &stmt)?;
                count += 1;
                state.statements = count;
                state.rows_done += conn.affected_rows();
                state.saw(&stmt.sql);
                progress(&state);
            }
        }
        Ok((count, deleted))
    })();
    match outcome {
        Ok((statements, deleted_rows)) => {
            conn.query_drop("COMMIT").map_err(err)?;
            Ok(RestoreReport {
                database: request.database.clone(),
                statements,
                created_database: false,
                verified_checksum: verified,
                deleted_rows,
                warnings,
                notices: Vec::new(),
            })
        }
        Err(e) => {
            let _ = conn.query_drop("ROLLBACK");
            Err(e)
        }
    }
}
