//! Every table of a report, in the order the terminal and HTML show them.

use super::alarms_table::alarms_table;
use super::faults_table::faults_table;
use super::prom_table::prom_table;
use super::send_table::send_table;
use super::table::{
    fleet_table, onchain_table, resources_table, results_table, tracked_table, Table,
};
use crate::bench::result::BenchReport;

/// Every table of the report, in the order they are shown.
pub fn all_tables(report: &BenchReport) -> Vec<Table> {
    let mut tables = vec![results_table(report)];
    tables.extend(send_table(report));
    tables.push(onchain_table(report));
    tables.extend(fleet_table(report));
    tables.extend(alarms_table(report));
    tables.extend(tracked_table(report));
    tables.extend(faults_table(report));
    tables.extend(prom_table(report));
    tables.extend(resources_table(report));
    tables
}
