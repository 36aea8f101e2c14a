use time::macros::{date, datetime};

use crate::credential::datetime::{
    format_date_time, format_iso_utc_millis, parse_date, parse_date_time, whole_years,
};

#[test]
fn date_time_layouts_normalised() {
    let cases = [
        ("2021-05-01T10:00:00.000Z", "2021-05-01T10:00:00.000Z"),
        ("2021-05-01T10:00:00Z", "2021-05-01T10:00:00.000Z"),
        ("2021-05-01T10:00:00.5Z", "2021-05-01T10:00:00.500Z"),
        (
            "2021-05-01T10:00:00.123456789123Z",
            "2021-05-01T10:00:00.123Z",
        ),
        ("2021-05-01T10:00:00.9999Z", "2021-05-01T10:00:00.999Z"),
        ("2021-05-01T10:00:00+05:30", "2021-05-01T10:00:00.000+05:30"),
        (
            "2021-05-01T10:00:00.1-04:00",
            "2021-05-01T10:00:00.100-04:00",
        ),
        ("2021-05-01T10:00:00+00:00", "2021-05-01T10:00:00.000Z"),
        ("2021-05-01T10:00:00-00:00", "2021-05-01T10:00:00.000Z"),
        (
            "2021-05-01T10:00:00.123+0530",
            "2021-05-01T10:00:00.123+05:30",
        ),
        (
            "2021-05-01T10:00:00.123456-0500",
            "2021-05-01T10:00:00.123-05:00",
        ),
        ("2021-05-01T10:00:00", "2021-05-01T10:00:00.000Z"),
        ("2021-05-01T10:00:00.25", "2021-05-01T10:00:00.250Z"),
        ("2021-05-01T10:00Z", "2021-05-01T10:00:00.000Z"),
        ("2021-05-01T10:00", "2021-05-01T10:00:00.000Z"),
        ("2021-05-01T9:05:00Z", "2021-05-01T09:05:00.000Z"),
        ("2020-02-29T23:59:59Z", "2020-02-29T23:59:59.000Z"),
    ];
    for (input, expected) in cases {
        let parsed = parse_date_time(input).unwrap_or_else(|| panic!("{input:?} is accepted"));
        assert_eq!(format_date_time(parsed), expected, "input {input:?}");
    }
}

#[test]
fn date_time_rejections() {
    let cases = [
        "",
        "2021-05-01",
        "2021-05-01 10:00:00Z",
        "2021-05-01t10:00:00Z",
        "2021-05-01T10:00:00z",
        "2021-05-01T24:00:00Z",
        "2021-05-01T10:60:00Z",
        "2021-05-01T10:00:60Z",
        "2021-05-01T10:0:00Z",
        "2021-05-01T100:00:00Z",
        "2021-05-01T10:00:00+0530",
        "2021-05-01T10:00:00.12+0530",
        "2021-05-01T10:00:00+05",
        "2021-05-01T10:00:00+24:00",
        "2021-05-01T10:00+05:30",
        "2021-05-01T10:00:00.Z",
        "2021-05-01T10:00:00,5Z",
        "2021-05-01T10:00:00Z ",
        "2021-02-29T10:00:00Z",
        "21-05-01T10:00:00Z",
        "2021-5-01T10:00:00Z",
    ];
    for input in cases {
        assert_eq!(parse_date_time(input), None, "input {input:?}");
    }
}

#[test]
fn date_layout_strict() {
    assert_eq!(parse_date("1994-11-30"), Some(date!(1994 - 11 - 30)));
    assert_eq!(parse_date("0000-01-01"), Some(date!(0000 - 01 - 01)));
    for input in [
        "",
        "1994-11-31",
        "1994-13-01",
        "1994-1-30",
        "94-11-30",
        "1994-11-30T00:00:00Z",
        "1994/11/30",
    ] {
        assert_eq!(parse_date(input), None, "input {input:?}");
    }
}

#[test]
fn whole_years_on_birthdays() {
    assert_eq!(
        whole_years(date!(1994 - 11 - 30), date!(2021 - 11 - 29)),
        26
    );
    assert_eq!(
        whole_years(date!(1994 - 11 - 30), date!(2021 - 11 - 30)),
        27
    );
    assert_eq!(
        whole_years(date!(2000 - 02 - 29), date!(2021 - 02 - 28)),
        20
    );
    assert_eq!(
        whole_years(date!(2000 - 02 - 29), date!(2021 - 03 - 01)),
        21
    );
    assert_eq!(
        whole_years(date!(2021 - 05 - 02), date!(2021 - 05 - 01)),
        -1
    );
    assert_eq!(whole_years(date!(2021 - 05 - 01), date!(2021 - 05 - 01)), 0);
}

#[test]
fn iso_millis_truncates() {
    let value = datetime!(2021-10-25 05:19:03.399_999 UTC);
    assert_eq!(
        format_iso_utc_millis(value).as_deref(),
        Some("2021-10-25T05:19:03.399Z")
    );
    let late = datetime!(2021-12-31 23:30 -01:00);
    assert_eq!(
        format_iso_utc_millis(late).as_deref(),
        Some("2022-01-01T00:30:00.000Z")
    );
    assert_eq!(
        format_iso_utc_millis(datetime!(-0001-12-31 23:59 UTC)),
        None
    );
}
