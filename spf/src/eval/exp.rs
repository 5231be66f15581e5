//! `exp=` (RFC 7208 §6.2): fetching and expanding the explanation of a `fail`. Every failure
//! means "no explanation", never a different result.

use super::answer::NormalAnswer;
use super::{CheckHost, ExpPhase};
use crate::dns::DnsQuery;
use crate::macros::MacroString;
use crate::target::target_name;

impl CheckHost<'_> {
    // exp= (RFC 7208 §6.2): every failure means "no explanation", never a different result.

    pub(super) fn step_exp(&mut self) {
        let Some(mut st) = self.exp.take() else {
            return;
        };
        match std::mem::replace(&mut st.phase, ExpPhase::Start) {
            ExpPhase::Start => {
                if self.needs_ptr(Some(&st.spec)) {
                    self.exp = Some(st);
                    return;
                }
                let expanded = st.spec.expand(&self.macro_ctx(st.domain.as_str()));
                match target_name(&expanded) {
                    Ok(t) => {
                        self.query(DnsQuery::Txt(t));
                        st.phase = ExpPhase::AwaitTxt;
                        self.exp = Some(st);
                    }
                    Err(why) => self.exp_ignored(why),
                }
            }
            ExpPhase::AwaitTxt => match self.answer.take() {
                Some(NormalAnswer::Txt(records, _)) => match records.as_slice() {
                    [one] => {
                        let bytes = one.concat();
                        // RFC 7208 §6.2: "the explanation string MUST be limited to [US-ASCII]".
                        let parsed = std::str::from_utf8(&bytes)
                            .ok()
                            .filter(|s| s.is_ascii())
                            .ok_or_else(|| "explanation is not US-ASCII".to_owned())
                            .and_then(|s| {
                                MacroString::parse_explain_string(s).map_err(|e| e.to_string())
                            });
                        match parsed {
                            Ok(ms) => {
                                st.phase = ExpPhase::Expand(ms);
                                self.exp = Some(st);
                            }
                            Err(why) => self.exp_ignored(why),
                        }
                    }
                    _ => self.exp_ignored(format!("{} TXT records", records.len())),
                },
                Some(other) => self.exp_ignored(other.summary().to_string()),
                None => self.exp_ignored("no answer".into()),
            },
            ExpPhase::Expand(ms) => {
                if self.needs_ptr(Some(&ms)) {
                    st.phase = ExpPhase::Expand(ms);
                    self.exp = Some(st);
                    return;
                }
                let text = ms.expand(&self.macro_ctx(st.domain.as_str()));
                // RFC 7208 §6.2: "the explanation string MUST be limited to [US-ASCII]". Macro
                // values (a SMTPUTF8 local-part, a HELO with control characters) could bring
                // other octets; they become '?' so the string is safe in an SMTP reply.
                let text = if text.bytes().all(|b| matches!(b, b' '..=b'~')) {
                    text
                } else {
                    text.chars()
                        .map(|c| if matches!(c, ' '..='~') { c } else { '?' })
                        .collect()
                };
                self.explanation = Some(text);
                self.finalize();
            }
        }
    }

    fn exp_ignored(&mut self, why: String) {
        // RFC 7208 §6.2: "proceed as if no "exp" modifier was given".
        self.note(format!("exp= ignored: {why}"));
        self.finalize();
    }
}
