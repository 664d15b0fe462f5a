//! What evaluation needs of the stored reports under one rule set — each commitment's
//! daily tally and latest marks — read back, counted again, or written with a file's
//! reports.

use super::Ledger;
use super::error::{LedgerError, sql, sql_in};
use crate::engine::marks::{LatestMarks, Mark, MarkChange};
use crate::engine::matcher::{CompiledRules, Scratch};
use crate::engine::report::Report;
use crate::engine::rules::RuleSet;
use crate::engine::tally::{DailyTally, fingerprint};
use rusqlite::{OptionalExtension, Transaction, params};

/// What evaluation needs of the ledger's reports under one rule set: the daily tally and
/// the latest marks of every commitment.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// Reports per commitment, day, class and party set.
    pub tally: DailyTally,
    /// The latest marks of each commitment, for the scorecard.
    pub marks: LatestMarks,
}

impl Ledger {
    fn damaged(&self, what: String) -> LedgerError {
        LedgerError::Damaged {
            path: self.path.clone(),
            what,
        }
    }

    /// The fingerprint of the rules the stored tally was counted with, if any.
    pub fn tally_rules(&self) -> Result<Option<String>, LedgerError> {
        if self.version()? < 3 {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'tally_rules'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&self.path))
    }

    /// The stored tally and marks, read as they are (see [`Ledger::tally_rules`]).
    fn load_standing(&self, rules: &RuleSet) -> Result<Standing, LedgerError> {
        let e = sql(&self.path);
        let mut tally = DailyTally::new(rules);
        let mut stmt = self
            .conn
            .prepare("SELECT commitment, cells FROM tally")
            .map_err(&e)?;
        let mut rows = stmt.query([]).map_err(&e)?;
        while let Some(row) = rows.next().map_err(&e)? {
            let c: i64 = row.get(0).map_err(&e)?;
            let cells = row
                .get_ref(1)
                .map_err(&e)?
                .as_blob()
                .map_err(|x| self.damaged(format!("stored tally: {x}")))?;
            let decoded = match usize::try_from(c) {
                Ok(c) => tally.decode(c, cells),
                Err(_) => tally.decode_agreements(cells),
            };
            decoded.map_err(|x| self.damaged(x))?;
        }
        tally.take_agreements_changed();
        let marks = self.load_marks(tally.len())?;
        tally.take_changed();
        Ok(Standing { tally, marks })
    }

    /// The stored latest marks of `commitments` commitments.
    fn load_marks(&self, commitments: usize) -> Result<LatestMarks, LedgerError> {
        let e = sql(&self.path);
        let mut marks = LatestMarks::new(commitments);
        let mut stmt = self
            .conn
            .prepare("SELECT commitment, mark FROM marks ORDER BY commitment")
            .map_err(&e)?;
        let mut rows = stmt.query([]).map_err(&e)?;
        let mut list: (i64, Vec<Mark>) = (0, Vec::new());
        while let Some(row) = rows.next().map_err(&e)? {
            let c: i64 = row.get(0).map_err(&e)?;
            let text: String = row.get(1).map_err(&e)?;
            let mark: Mark = serde_json::from_str(&text)
                .map_err(|x| self.damaged(format!("a stored mark of commitment {c}: {x}")))?;
            if c != list.0 {
                let done = std::mem::replace(&mut list, (c, Vec::new()));
                marks.set(done.0 as usize, done.1);
            }
            list.1.push(mark);
        }
        marks.set(list.0 as usize, list.1);
        Ok(marks)
    }

    /// The stored reports that can bear on commitment `c` under `rules`: those dated before
    /// its start (never counted, but shown by `explain`) and those of the days its stored
    /// tally has reports on — read through the date index instead of every report. `None`
    /// when the stored tally is not of `rules` (then every report must be read).
    pub fn reports_for(
        &self,
        rules: &RuleSet,
        c: usize,
        each: &mut dyn FnMut(Report),
    ) -> Result<Option<()>, LedgerError> {
        if self.tally_rules()?.as_deref() != Some(fingerprint(rules).as_str()) {
            return Ok(None);
        }
        let e = sql(&self.path);
        let mut tally = DailyTally::new(rules);
        let cells: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT cells FROM tally WHERE commitment = ?1",
                [c as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(&e)?;
        if let Some(cells) = cells {
            tally
                .decode(c, &cells)
                .map_err(|x| self.damaged(x.to_string()))?;
        }
        let starts = rules
            .scopes()
            .get(c)
            .map(|(starts, _)| starts.to_string())
            .unwrap_or_default();
        let mut read = |sql_text: &str, value: String| -> Result<(), LedgerError> {
            let mut stmt = self.conn.prepare_cached(sql_text).map_err(&e)?;
            let mut rows = stmt.query([value]).map_err(&e)?;
            while let Some(row) = rows.next().map_err(&e)? {
                let text: String = row.get(0).map_err(&e)?;
                each(self.parse_stored(&text)?);
            }
            Ok(())
        };
        read("SELECT report FROM reports WHERE date < ?1", starts)?;
        for day in tally.days(c) {
            read(
                "SELECT report FROM reports WHERE date = ?1",
                day.to_string(),
            )?;
        }
        Ok(Some(()))
    }

    /// The tally and marks of every stored report under `rules`, counted now (nothing is
    /// written).
    fn count_standing(
        &self,
        rules: &RuleSet,
        compiled: &CompiledRules,
    ) -> Result<Standing, LedgerError> {
        let mut tally = DailyTally::new(rules);
        let mut marks = LatestMarks::new(tally.len());
        let mut scratch = Scratch::default();
        self.reports(&mut |r| {
            let hits = compiled.match_report(&r, &mut scratch);
            tally.add(r.date, &hits, 1);
            marks.add(&r, &hits);
        })?;
        Ok(Standing { tally, marks })
    }

    /// What evaluation needs under `rules`: the stored tally and marks when they were
    /// counted with these rules, else counted from the reports now (a slower path, for a
    /// reader whose rules differ from the daemon's). The flag says which.
    pub fn standing(
        &self,
        rules: &RuleSet,
        compiled: &CompiledRules,
    ) -> Result<(Standing, bool), LedgerError> {
        if self.tally_rules()?.as_deref() == Some(fingerprint(rules).as_str()) {
            Ok((self.load_standing(rules)?, true))
        } else {
            Ok((self.count_standing(rules, compiled)?, false))
        }
    }

    /// Like [`Ledger::standing`], but when the stored tally is not of `rules`, counts it
    /// again and stores it (one transaction): the daemon's start and reload.
    pub fn standing_for(
        &mut self,
        rules: &RuleSet,
        compiled: &CompiledRules,
    ) -> Result<Standing, LedgerError> {
        let fingerprint = fingerprint(rules);
        if self.tally_rules()?.as_deref() == Some(fingerprint.as_str()) {
            return self.load_standing(rules);
        }
        tracing::info!(
            reports = self.counts()?.reports,
            "the ledger's tally is not of these rules: matching every stored report again"
        );
        let mut standing = self.count_standing(rules, compiled)?;
        let tx = self.begin()?;
        let e = sql_in(&tx);
        tx.execute_batch("DELETE FROM tally; DELETE FROM marks;")
            .map_err(&e)?;
        let all: Vec<u32> = (0..standing.tally.len() as u32).collect();
        save_standing(&tx, &mut standing, &all)?;
        for (c, list) in standing.marks.lists().iter().enumerate() {
            for m in list {
                put_mark(&tx, c as u32, m)?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('tally_rules', ?1)",
            [&fingerprint],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        standing.tally.take_changed();
        Ok(standing)
    }
}

/// Writes the tally of commitments `tally` and the changes of the marks inside a
/// transaction (with the reports they count).
pub fn save_standing(
    tx: &Transaction<'_>,
    standing: &mut Standing,
    tally: &[u32],
) -> Result<(), LedgerError> {
    let e = sql_in(tx);
    let mut put = tx
        .prepare_cached("INSERT OR REPLACE INTO tally (commitment, cells) VALUES (?1, ?2)")
        .map_err(&e)?;
    let mut gone = tx
        .prepare_cached("DELETE FROM tally WHERE commitment = ?1")
        .map_err(&e)?;
    for &c in tally {
        let cells = standing.tally.encode(c as usize);
        if cells.is_empty() {
            gone.execute([c]).map_err(&e)?;
        } else {
            put.execute(params![c, cells]).map_err(&e)?;
        }
    }
    // the agreements' report counts are row -1
    if standing.tally.take_agreements_changed() {
        put.execute(params![-1, standing.tally.encode_agreements()])
            .map_err(&e)?;
    }
    let mut gone = tx
        .prepare_cached("DELETE FROM marks WHERE commitment = ?1 AND id = ?2")
        .map_err(&e)?;
    for change in standing.marks.take_changes() {
        match change {
            MarkChange::Added(c, m) => put_mark(tx, c, &m)?,
            MarkChange::Removed(c, id) => {
                gone.execute(params![c, id]).map_err(&e)?;
            }
        }
    }
    Ok(())
}

fn put_mark(tx: &Transaction<'_>, c: u32, m: &Mark) -> Result<(), LedgerError> {
    let text = serde_json::to_string(m).map_err(|x| LedgerError::Damaged {
        path: tx.path().unwrap_or_default().into(),
        what: format!("a mark of commitment {c} cannot be stored: {x}"),
    })?;
    tx.prepare_cached("INSERT OR REPLACE INTO marks (commitment, id, mark) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![c, m.id, text]))
        .map(|_| ())
        .map_err(sql_in(tx))
}
