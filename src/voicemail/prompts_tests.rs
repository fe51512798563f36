use super::*;

fn wav(spec: hound::WavSpec, samples: &[i16]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).expect("writer");
    for s in samples {
        w.write_sample(*s).expect("sample");
    }
    w.finalize().expect("finalize");
    out.into_inner()
}

fn telephone() -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

fn shipped() -> Prompts {
    let dir = tempfile::tempdir().expect("tempdir");
    Prompts::load(dir.path()).expect("shipped prompts load")
}

#[test]
fn every_name_the_cores_can_ask_for_is_shipped_in_both_languages_and_decodes() {
    let mut checked = 0;
    for lang in LANGUAGES {
        for name in names_for(lang) {
            let path = format!("{lang}/{name}.wav");
            let file = SHIPPED
                .get_file(&path)
                .unwrap_or_else(|| panic!("sounds/{path} is missing"));
            let samples = decode(Path::new(&path), file.contents()).expect("decodes");
            // At least 0.1 s of sound.
            assert!(samples.len() >= 800, "{path}: {} samples", samples.len());
            checked += 1;
        }
    }
    assert!(checked >= 2 * (Prompt::ALL.len() + 28), "{checked}");
}

#[test]
fn prompt_names_are_distinct() {
    let mut names: Vec<&str> = Prompt::ALL.iter().map(|p| p.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Prompt::ALL.len());
}

#[test]
fn german_and_english_differ_and_other_languages_hear_english() {
    let prompts = shipped();
    let de = prompts.named("goodbye", "de").expect("de");
    let en = prompts.named("goodbye", "en").expect("en");
    assert_ne!(de, en);
    assert_eq!(prompts.named("goodbye", "fr").expect("fallback"), en);
    assert!(matches!(
        prompts.named("no-such-prompt", "de"),
        Err(PromptError::Missing { .. })
    ));
}

#[test]
fn numbers_are_said_in_each_languages_order() {
    let names = |n, lang| number_names(n, lang);
    assert_eq!(names(7, "de"), ["num-7"]);
    assert_eq!(names(17, "de"), ["num-17"]);
    assert_eq!(names(20, "de"), ["num-20"]);
    assert_eq!(names(21, "de"), ["num-1-und", "num-20"], "einundzwanzig");
    assert_eq!(names(99, "de"), ["num-9-und", "num-90"]);
    assert_eq!(names(40, "de"), ["num-40"]);
    assert_eq!(names(19, "en"), ["num-19"]);
    assert_eq!(names(21, "en"), ["num-20", "num-1"], "twenty-one");
    assert_eq!(names(90, "en"), ["num-90"]);
    assert_eq!(names(105, "de"), ["num-1", "num-0", "num-5"]);
    let prompts = shipped();
    let mut expected = prompts.named("num-1-und", "de").expect("1-und").to_vec();
    expected.extend_from_slice(prompts.named("num-20", "de").expect("20"));
    let said = prompts.render(&Sound::Number(21), "de").expect("a number");
    assert_eq!(said.expect("renders"), expected);
}

#[test]
fn greetings_and_messages_are_left_to_the_storage() {
    let prompts = shipped();
    assert!(
        prompts
            .render(&Sound::Greeting(GreetingKind::Busy), "de")
            .is_none()
    );
    assert!(prompts.render(&Sound::Message(4), "de").is_none());
    let beep = prompts.render(&Sound::Beep, "de").expect("beep");
    assert_eq!(beep.expect("renders").len(), 8000);
}

#[test]
fn an_admins_file_replaces_the_shipped_one_for_its_language_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let de = dir.path().join("sounds/de");
    std::fs::create_dir_all(&de).expect("mkdir");
    let mine: Vec<i16> = (0..4000).map(|i| (i % 100) as i16).collect();
    std::fs::write(de.join("goodbye.wav"), wav(telephone(), &mine)).expect("write");
    // A name no core uses is ignored, not an error.
    std::fs::write(de.join("hold-music.wav"), wav(telephone(), &mine)).expect("write");
    let prompts = Prompts::load(dir.path()).expect("loads");
    assert_eq!(prompts.named("goodbye", "de").expect("de"), mine);
    assert_ne!(prompts.named("goodbye", "en").expect("en"), mine);
}

#[test]
fn files_of_another_format_are_refused_with_their_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let en = dir.path().join("sounds/en");
    std::fs::create_dir_all(&en).expect("mkdir");
    let cd = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        ..telephone()
    };
    std::fs::write(en.join("goodbye.wav"), wav(cd, &[0; 100])).expect("write");
    let err = Prompts::load(dir.path()).expect_err("44.1 kHz stereo");
    assert!(matches!(err, PromptError::Format { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("sounds/en/goodbye.wav"), "{text}");
    assert!(text.contains("44100 Hz, 2 channel(s)"), "{text}");
}

#[test]
fn garbage_float_and_eight_bit_are_refused_without_panic() {
    let path = Path::new("x.wav");
    for bytes in [
        &b""[..],
        b"RIFF",
        b"RIFF\xff\xff\xff\xffWAVEfmt ",
        &[0u8; 64],
    ] {
        assert!(
            matches!(decode(path, bytes), Err(PromptError::NotWav { .. })),
            "{bytes:?}"
        );
    }
    let mut float = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
        ..telephone()
    };
    let mut w = hound::WavWriter::new(&mut float, spec).expect("writer");
    w.write_sample(0.5f32).expect("sample");
    w.finalize().expect("finalize");
    assert!(matches!(
        decode(path, float.get_ref()),
        Err(PromptError::Format { bits: 32, .. })
    ));
    let mut eight = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        bits_per_sample: 8,
        ..telephone()
    };
    let mut w = hound::WavWriter::new(&mut eight, spec).expect("writer");
    w.write_sample(5i8).expect("sample");
    w.finalize().expect("finalize");
    assert!(matches!(
        decode(path, eight.get_ref()),
        Err(PromptError::Format { bits: 8, .. })
    ));
}

#[test]
fn a_header_claiming_hours_is_refused_before_reading() {
    let mut bytes = wav(telephone(), &[1; 10]);
    // The data chunk's length (bytes 40..44 of a plain header): a day of samples.
    let claimed: u32 = 86_400 * 8000 * 2;
    bytes[40..44].copy_from_slice(&claimed.to_le_bytes());
    assert!(matches!(
        decode(Path::new("long.wav"), &bytes),
        Err(PromptError::TooLong { .. })
    ));
}

#[test]
fn the_beep_is_a_second_of_640_hz_at_minus_7_dbfs() {
    let b = beep();
    assert_eq!(b.len(), 8000);
    let crossings = b.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    // 640 Hz crosses zero 1,280 times a second.
    assert!((1270..=1290).contains(&crossings), "{crossings}");
    let peak = b.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    let expected = (32767.0 * 10f64.powf(-7.0 / 20.0)) as u16;
    assert!(peak.abs_diff(expected) < 50, "{peak} vs {expected}");
    assert!(
        b[0].unsigned_abs() < 100 && b[7999].unsigned_abs() < 100,
        "faded"
    );
}
