//! Mask selection for QR symbols, on bit-packed module lines.
//!
//! The QR code standard, ISO/IEC 18004, has the encoder try all eight data masks and keep the one
//! with the lowest penalty. Scoring a mask module by module costs about as much as the
//! rest of the encoding, so here each row and each column is a bit set and every
//! penalty rule is a handful of word operations per line:
//!
//! - N1: a run of five or more modules of one colour in a line scores 3, plus 1 for each
//!   module past five.
//! - N2: each 2 × 2 block of one colour scores 3.
//! - N3: each 1:1:3:1:1 finder look-alike with four light modules before or after it
//!   scores 40. The quiet zone outside the symbol counts as light.
//! - N4: 10 for each full 5 % that the share of dark modules is away from 50 %.
//!
//! The symbol is first built with mask 0, which is then taken off the data modules, so
//! the other masks and their format information are applied here rather than by
//! encoding the payload eight times.

use std::sync::OnceLock;

/// Words of one line: 177 modules plus 4 light ones on each side fit in 192 bits.
const WORDS: usize = 3;

/// Largest symbol side, in modules (version 40).
const MAX_WIDTH: usize = 177;

/// Light modules on each side of a line when looking for finder look-alikes.
const PAD: usize = 4;

/// One row or column of modules, bit `i` being module `i`; `true` is dark.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Line([u64; WORDS]);

impl Line {
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    fn set(&mut self, i: usize, dark: bool) {
        let bit = 1u64 << (i % 64);
        if dark {
            self.0[i / 64] |= bit;
        } else {
            self.0[i / 64] &= !bit;
        }
    }

    /// Returns a line with bits `0..width` set.
    fn ones(width: usize) -> Self {
        let mut line = Self::default();
        for (i, word) in line.0.iter_mut().enumerate() {
            let start = i * 64;
            *word = match width.saturating_sub(start) {
                0 => 0,
                n if n >= 64 => u64::MAX,
                n => (1u64 << n) - 1,
            };
        }
        line
    }

    /// Shifts towards bit 0: bit `i` of the result is bit `i + n` of `self` (n < 64).
    fn down(self, n: usize) -> Self {
        if n == 0 {
            return self;
        }
        let mut out = [0u64; WORDS];
        for (i, word) in out.iter_mut().enumerate() {
            let high = self.0.get(i + 1).map_or(0, |next| next << (64 - n));
            *word = (self.0[i] >> n) | high;
        }
        Self(out)
    }

    /// Shifts away from bit 0: bit `i + n` of the result is bit `i` of `self` (n < 64).
    fn up(self, n: usize) -> Self {
        if n == 0 {
            return self;
        }
        let mut out = [0u64; WORDS];
        for (i, word) in out.iter_mut().enumerate() {
            let low = if i == 0 { 0 } else { self.0[i - 1] >> (64 - n) };
            *word = (self.0[i] << n) | low;
        }
        Self(out)
    }

    fn and(self, other: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] & other.0[i]))
    }

    fn and_not(self, other: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] & !other.0[i]))
    }

    fn xor(self, other: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] ^ other.0[i]))
    }

    fn count(self) -> u32 {
        self.0.iter().map(|word| word.count_ones()).sum()
    }
}

/// Returns whether data mask `mask` (0 to 7) inverts the module at `row`, `column`.
fn inverts(mask: u8, row: usize, column: usize) -> bool {
    let (i, j) = (row, column);
    match mask {
        0 => (i + j) % 2 == 0,
        1 => i % 2 == 0,
        2 => j % 3 == 0,
        3 => (i + j) % 3 == 0,
        4 => (i / 2 + j / 3) % 2 == 0,
        5 => (i * j) % 2 + (i * j) % 3 == 0,
        6 => ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        _ => ((i + j) % 2 + (i * j) % 3) % 2 == 0,
    }
}

/// Patterns of the eight masks, twelve lines each: every mask repeats every 12 rows and
/// every 12 columns. In the row table, `[mask][row % 12]` is a row's pattern, and in the
/// column table `[mask][column % 12]` is a column's.
type Patterns = [[Line; 12]; 8];

fn patterns() -> &'static (Patterns, Patterns) {
    static PATTERNS: OnceLock<(Patterns, Patterns)> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let mut rows = [[Line::default(); 12]; 8];
        let mut columns = [[Line::default(); 12]; 8];
        for mask in 0..8u8 {
            for phase in 0..12 {
                for k in 0..MAX_WIDTH {
                    rows[usize::from(mask)][phase].set(k, inverts(mask, phase, k));
                    columns[usize::from(mask)][phase].set(k, inverts(mask, k, phase));
                }
            }
        }
        (rows, columns)
    })
}

/// Returns the 15 format information bits for error-correction level M and `mask`: BCH
/// coded, then XORed with 0x5412.
fn format_bits(mask: u8) -> u16 {
    // Level M is 0b00, so the 5 data bits are the mask number.
    let data = u16::from(mask & 7);
    let mut remainder = data << 10;
    for bit in (10..15).rev() {
        if remainder >> bit & 1 == 1 {
            remainder ^= 0b101_0011_0111 << (bit - 10);
        }
    }
    ((data << 10) | remainder) ^ 0x5412
}

/// Returns the module positions `(column, row)` of format bits 0 to 14, both copies.
/// Bit 0 is the least significant.
fn format_positions(width: usize) -> [[(usize, usize); 2]; 15] {
    std::array::from_fn(|i| {
        let first = match i {
            0..=5 => (8, i),
            6 => (8, 7),
            7 => (8, 8),
            8 => (7, 8),
            _ => (14 - i, 8),
        };
        let second = if i < 8 {
            (width - 1 - i, 8)
        } else {
            (8, width - 15 + i)
        };
        [first, second]
    })
}

/// Returns the centre coordinates of the alignment patterns of `version` on either axis:
/// 6, then evenly spaced up to `side − 7` with an even step, except version 32, whose
/// step is 26.
fn alignment_centres(version: u8, side: usize) -> Vec<usize> {
    if version < 2 {
        return Vec::new();
    }
    let count = usize::from(version) / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        2 * (side - 13).div_ceil(2 * (count - 1))
    };
    let mut centres: Vec<usize> = (0..count - 1).map(|i| side - 7 - i * step).collect();
    centres.push(6);
    centres.reverse();
    centres
}

/// Returns, row by row, which modules of a `version` symbol are function patterns
/// (finders with their separators, timing, alignment, format and version information,
/// and the dark module) rather than data.
pub(super) fn function_modules(version: u8) -> Vec<bool> {
    let side = 17 + 4 * usize::from(version);
    let mut function = vec![false; side * side];
    let mut mark = |x0: usize, y0: usize, w: usize, h: usize| {
        for y in y0..(y0 + h).min(side) {
            for x in x0..(x0 + w).min(side) {
                function[y * side + x] = true;
            }
        }
    };
    // Finders with separators and the format information beside them; the bottom-left
    // area includes the dark module.
    mark(0, 0, 9, 9);
    mark(side - 8, 0, 8, 9);
    mark(0, side - 8, 9, 8);
    // Timing patterns.
    mark(0, 6, side, 1);
    mark(6, 0, 1, side);
    let centres = alignment_centres(version, side);
    let last = centres.len().saturating_sub(1);
    for (i, &cy) in centres.iter().enumerate() {
        for (j, &cx) in centres.iter().enumerate() {
            // The three corners that hold finder patterns get no alignment pattern.
            let corner = |k: usize| k == 0 || k == last;
            if corner(i) && corner(j) && !(i == last && j == last) {
                continue;
            }
            mark(cx - 2, cy - 2, 5, 5);
        }
    }
    if version >= 7 {
        mark(side - 11, 0, 3, 6);
        mark(0, side - 11, 6, 3);
    }
    function
}

/// Returns the data modules of a `version` symbol (1 to 40) as lines, by rows and by
/// columns, computed once per version.
fn data_lines(version: u8) -> &'static (Vec<Line>, Vec<Line>) {
    static LINES: [OnceLock<(Vec<Line>, Vec<Line>)>; 40] = [const { OnceLock::new() }; 40];
    let index = usize::from(version.clamp(1, 40) - 1);
    LINES[index].get_or_init(|| {
        let side = 17 + 4 * (index + 1);
        let function = function_modules(index as u8 + 1);
        let mut rows = vec![Line::default(); side];
        let mut columns = vec![Line::default(); side];
        for y in 0..side {
            for x in 0..side {
                if !function[y * side + x] {
                    rows[y].set(x, true);
                    columns[x].set(y, true);
                }
            }
        }
        (rows, columns)
    })
}

/// A symbol as bit-packed rows and columns, with the data modules marked.
pub(super) struct Matrix {
    width: usize,
    rows: Vec<Line>,
    columns: Vec<Line>,
    data_rows: &'static [Line],
    data_columns: &'static [Line],
}

impl Matrix {
    /// Packs a `version` symbol built with mask 0 and takes the mask off its data
    /// modules. `dark(x, y)` reads column `x` of row `y`.
    pub(super) fn unmasked(version: u8, dark: impl Fn(usize, usize) -> bool) -> Self {
        let (data_rows, data_columns) = data_lines(version);
        let width = data_rows.len();
        let mask_rows = &patterns().0[0];
        let mut rows = vec![Line::default(); width];
        for (y, row) in rows.iter_mut().enumerate() {
            for x in 0..width {
                if dark(x, y) {
                    row.set(x, true);
                }
            }
            *row = row.xor(mask_rows[y % 12].and(data_rows[y]));
        }
        // The columns are the rows transposed, one dark module at a time.
        let mut columns = vec![Line::default(); width];
        for (y, row) in rows.iter().enumerate() {
            for (word_index, &word) in row.0.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let x = word_index * 64 + bits.trailing_zeros() as usize;
                    columns[x].set(y, true);
                    bits &= bits - 1;
                }
            }
        }
        Self {
            width,
            rows,
            columns,
            data_rows,
            data_columns,
        }
    }

    /// Applies the mask of lowest penalty with its format information and returns the
    /// modules row by row, `true` for dark, with the mask number.
    pub(super) fn best_masked(&self) -> (Vec<bool>, u8) {
        let mut best: Option<(u32, u8, Vec<Line>)> = None;
        let mut rows = vec![Line::default(); self.width];
        let mut columns = vec![Line::default(); self.width];
        for mask in 0..8u8 {
            self.apply(mask, &mut rows, &mut columns);
            let penalty = penalty(&rows, self.width) + penalty_columns(&columns, self.width);
            let dark: u32 = rows.iter().map(|row| row.count()).sum();
            let penalty = penalty + balance_penalty(dark, self.width);
            if best.as_ref().is_none_or(|(score, _, _)| penalty < *score) {
                best = Some((penalty, mask, rows.clone()));
            }
        }
        let (_, mask, rows) = best.unwrap_or((0, 0, rows));
        let modules = rows
            .iter()
            .flat_map(|row| (0..self.width).map(|x| row.get(x)))
            .collect();
        (modules, mask)
    }

    /// Returns the modules with `mask` applied, row by row.
    #[cfg(test)]
    pub(super) fn masked(&self, mask: u8) -> Vec<bool> {
        let mut rows = vec![Line::default(); self.width];
        let mut columns = vec![Line::default(); self.width];
        self.apply(mask, &mut rows, &mut columns);
        rows.iter()
            .flat_map(|row| (0..self.width).map(|x| row.get(x)))
            .collect()
    }

    /// Writes the symbol with `mask` applied into `rows` and `columns`.
    fn apply(&self, mask: u8, rows: &mut [Line], columns: &mut [Line]) {
        let (row_patterns, column_patterns) = patterns();
        let mask_index = usize::from(mask);
        for (y, row) in rows.iter_mut().enumerate() {
            let pattern = row_patterns[mask_index][y % 12].and(self.data_rows[y]);
            *row = self.rows[y].xor(pattern);
        }
        for (x, column) in columns.iter_mut().enumerate() {
            let pattern = column_patterns[mask_index][x % 12].and(self.data_columns[x]);
            *column = self.columns[x].xor(pattern);
        }
        let bits = format_bits(mask);
        for (i, copies) in format_positions(self.width).iter().enumerate() {
            let dark = bits >> i & 1 == 1;
            for &(x, y) in copies {
                rows[y].set(x, dark);
                columns[x].set(y, dark);
            }
        }
    }
}

/// Rules N1, N2 and N3 over the rows (N2 needs the neighbouring row, so it is counted
/// here only).
fn penalty(rows: &[Line], width: usize) -> u32 {
    let inside = Line::ones(width);
    let mut score = 0;
    for (y, &row) in rows.iter().enumerate() {
        score += run_penalty(row, inside) + finder_penalty(row, width);
        if let Some(&next) = rows.get(y + 1) {
            // Position x starts a block when rows y and y + 1 agree at x and at x + 1,
            // and row y agrees with itself from x to x + 1.
            let agree = row.xor(next);
            let pair = Line::ones(width - 1);
            let same_right = row.xor(row.down(1));
            let blocks = pair
                .and_not(agree)
                .and_not(agree.down(1))
                .and_not(same_right);
            score += 3 * blocks.count();
        }
    }
    score
}

/// Rules N1 and N3 over the columns.
fn penalty_columns(columns: &[Line], width: usize) -> u32 {
    let inside = Line::ones(width);
    columns
        .iter()
        .map(|&column| run_penalty(column, inside) + finder_penalty(column, width))
        .sum()
}

/// Rule N1 for one line: a run of n ≥ 5 modules scores n − 2. That is one point per
/// window of five equal modules in the run (n − 4 of them) plus two per run.
fn run_penalty(line: Line, inside: Line) -> u32 {
    let mut score = 0;
    for colour in [line, inside.and_not(line)] {
        let mut five = colour;
        for shift in 1..5 {
            five = five.and(colour.down(shift));
        }
        // A window starts a run when the module before it has the other colour.
        let starts = five.and_not(colour.up(1));
        score += five.count() + 2 * starts.count();
    }
    score
}

/// Rule N3 for one line: dark-light-dark-dark-dark-light-dark with four light modules
/// before it, or after it, scores 40 each time. A look-alike with light on both sides
/// counts twice, as in the reference encoders.
fn finder_penalty(line: Line, width: usize) -> u32 {
    // Bit i of `padded` is module i − PAD; the padding and what follows stay light.
    let padded = line.up(PAD);
    let light = Line::ones(width + 2 * PAD).and_not(padded);
    // The look-alike, as read from its first module onwards.
    const CORE: [bool; 7] = [true, false, true, true, true, false, true];
    let mut core = padded;
    for (offset, &dark) in CORE.iter().enumerate().skip(1) {
        core = core.and((if dark { padded } else { light }).down(offset));
    }
    let light_four = light
        .and(light.down(1))
        .and(light.down(2))
        .and(light.down(3));
    // Four light modules starting at the window, then the look-alike; or the look-alike,
    // then four light modules.
    let before = light_four.and(core.down(4));
    let after = core.and(light_four.down(7));
    40 * (before.count() + after.count())
}

/// Rule N4: 10 points for each full 5 % between the dark share and 50 %.
fn balance_penalty(dark: u32, width: usize) -> u32 {
    let total = u64::try_from(width * width).unwrap_or(u64::MAX).max(1);
    let dark = u64::from(dark);
    // |dark / total − 1/2| in steps of 5 %: |20 dark − 10 total| / total, rounded down.
    let steps = (20 * dark).abs_diff(10 * total) / total;
    u32::try_from(steps * 10).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a line from a string of `#` (dark) and `.` (light).
    fn line(text: &str) -> (Line, usize) {
        let mut line = Line::default();
        for (i, c) in text.chars().enumerate() {
            line.set(i, c == '#');
        }
        (line, text.len())
    }

    #[test]
    fn alignment_centres_match_the_standard_table() {
        // Rows of the standard's table of alignment pattern positions.
        assert_eq!(alignment_centres(1, 21), Vec::<usize>::new());
        assert_eq!(alignment_centres(2, 25), [6, 18]);
        assert_eq!(alignment_centres(7, 45), [6, 22, 38]);
        assert_eq!(alignment_centres(15, 77), [6, 26, 48, 70]);
        assert_eq!(alignment_centres(32, 145), [6, 34, 60, 86, 112, 138]);
        assert_eq!(alignment_centres(36, 161), [6, 24, 50, 76, 102, 128, 154]);
        assert_eq!(alignment_centres(40, 177), [6, 30, 58, 86, 114, 142, 170]);
    }

    #[test]
    fn format_bits_match_the_standard_table() {
        // The standard's format information for level M, masks 0 to 7.
        let expected = [
            0b101_0100_0001_0010,
            0b101_0001_0010_0101,
            0b101_1110_0111_1100,
            0b101_1011_0100_1011,
            0b100_0101_1111_1001,
            0b100_0000_1100_1110,
            0b100_1111_1001_0111,
            0b100_1010_1010_0000,
        ];
        for (mask, bits) in expected.into_iter().enumerate() {
            assert_eq!(format_bits(mask as u8), bits, "mask {mask}");
        }
    }

    #[test]
    fn runs_score_n_minus_two() {
        let (row, width) = line("#####......#.#");
        // Five dark score 3, six light score 4.
        assert_eq!(run_penalty(row, Line::ones(width)), 7);
        let (row, width) = line("####.####");
        assert_eq!(run_penalty(row, Line::ones(width)), 0);
    }

    #[test]
    fn finder_look_alikes_need_four_light_modules() {
        // Light on the right inside the line.
        let (row, width) = line("#.##.#.###.#....##");
        assert_eq!(finder_penalty(row, width), 40);
        // At the left edge the quiet zone supplies the light modules, and the right
        // side has four light too: counted twice.
        let (row, width) = line("#.###.#....");
        assert_eq!(finder_penalty(row, width), 80);
        // Only three light modules on each side.
        let (row, width) = line("##...#.###.#...##");
        assert_eq!(finder_penalty(row, width), 0);
    }

    #[test]
    fn blocks_score_three() {
        let rows = [line("##..#").0, line("##..#").0];
        // Two dark-or-light 2 x 2 blocks at columns 0 and 2; the rest are mixed. The
        // runs are too short for N1 and there is no look-alike.
        assert_eq!(penalty(&rows, 5), 6);
    }

    #[test]
    fn balance_steps_of_five_percent() {
        assert_eq!(balance_penalty(50, 10), 0);
        assert_eq!(balance_penalty(54, 10), 0);
        assert_eq!(balance_penalty(55, 10), 10);
        assert_eq!(balance_penalty(39, 10), 20);
        assert_eq!(balance_penalty(0, 10), 100);
    }
}
