#!/usr/bin/env bash
# Makes the voicemail prompts in sounds/<lang>/<name>.wav (de, en) with espeak-ng and sox:
# 8 kHz, mono, 16-bit PCM, silence trimmed, normalized to -3 dBFS, a short pad at both ends.
# Needed only to regenerate the committed files, not by the daemon or the tests.
# Idempotent: a file is rewritten only when its new bytes differ, so a second run changes
# nothing. espeak-ng and sox are installed (apt) when missing.
#
# The names are the ones src/voicemail/prompts.rs knows (`Prompt::name`, number words); a test
# there checks that every one of them exists for both languages and decodes.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "make-sounds: missing ${need[*]}; run as root or install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
changed=0

# say LANG NAME PAD TEXT: speaks TEXT into sounds/LANG/NAME.wav with PAD seconds at each end.
say() {
    local lang=$1 name=$2 pad=$3 text=$4
    local voice out="sounds/$lang/$name.wav"
    case "$lang" in
        de) voice=de ;;
        en) voice=en-us ;;
    esac
    mkdir -p "sounds/$lang"
    espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
    # Trim silence at both ends (reverse trick), then normalize and pad; dither off so the
    # bytes are the same on every run.
    sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/new.wav" \
        silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse norm -3 pad "$pad" "$pad"
    if ! cmp -s "$tmp/new.wav" "$out"; then
        mv "$tmp/new.wav" "$out"
        changed=$((changed + 1))
    fi
}

# prompt NAME GERMAN ENGLISH. The texts are spelled for espeak-ng where it errs: "Pinn" is how
# German says PIN (espeak-ng spells "PIN" out letter by letter), "Raute-Taste" keeps it from
# reading "Rautetaste" as "Raut-e-taste".
prompt() {
    say de "$1" 0.15 "$2"
    say en "$1" 0.15 "$3"
}

prompt greeting-unavailable \
    "Der Teilnehmer ist zurzeit nicht erreichbar. Bitte hinterlassen Sie eine Nachricht nach dem Signalton." \
    "The person you are calling is not available. Please leave a message after the tone."
prompt greeting-busy \
    "Der Teilnehmer spricht gerade. Bitte hinterlassen Sie eine Nachricht nach dem Signalton." \
    "The person you are calling is on the phone. Please leave a message after the tone."
prompt goodbye "Vielen Dank. Auf Wiederhören." "Thank you. Goodbye."
prompt mailbox-unavailable \
    "Die Mailbox ist zurzeit nicht verfügbar. Bitte versuchen Sie es später noch einmal." \
    "The mailbox is not available right now. Please try again later."
prompt too-short \
    "Die Aufnahme war zu kurz und wurde nicht gespeichert." \
    "The recording was too short and has not been saved."
prompt enter-pin \
    "Bitte geben Sie Ihre Pinn ein, gefolgt von der Raute-Taste." \
    "Please enter your PIN, followed by the pound key."
prompt wrong-pin "Die Pinn ist falsch." "That PIN is not correct."
prompt locked \
    "Zu viele Fehlversuche. Die Mailbox ist vorübergehend gesperrt." \
    "Too many failed attempts. The mailbox is locked for a while."
prompt you-have "Sie haben" "You have"
prompt no-messages "Sie haben keine Nachrichten." "You have no messages."
prompt count-one "eine" "one"
prompt and "und" "and"
prompt new-message "neue Nachricht" "new message"
prompt new-messages "neue Nachrichten" "new messages"
prompt old-message "alte Nachricht" "old message"
prompt old-messages "alte Nachrichten" "old messages"
prompt message "Nachricht" "Message"
prompt main-menu \
    "Zum Abhören Ihrer Nachrichten drücken Sie die 1. Für die Mailbox-Einstellungen die 0. Zum Beenden die Raute-Taste." \
    "To listen to your messages, press 1. For mailbox options, press 0. To exit, press pound."
prompt message-menu \
    "Zum Wiederholen drücken Sie die 5, für die vorige Nachricht die 4, für die nächste die 6, zum Löschen die 7, zum Speichern die 9. Hilfe mit der Stern-Taste, beenden mit der Raute-Taste." \
    "To repeat, press 5. Previous message, 4. Next message, 6. To delete, press 7. To save, press 9. For help, press star. To exit, press pound."
prompt no-more-messages "Keine weiteren Nachrichten." "No more messages."
prompt message-deleted "Nachricht gelöscht." "Message deleted."
prompt message-saved "Nachricht gespeichert." "Message saved."
prompt options-menu \
    "Um Ihre Ansage für Abwesenheit aufzunehmen, drücken Sie die 1. Für die Ansage bei besetzt die 2. Zurück zum Hauptmenü mit der Stern-Taste." \
    "To record your unavailable greeting, press 1. For your busy greeting, press 2. To return to the main menu, press star."
prompt record-greeting \
    "Sprechen Sie Ihre Ansage nach dem Signalton und drücken Sie dann die Raute-Taste." \
    "Record your greeting after the tone, then press pound."
prompt greeting-saved "Ihre Ansage wurde gespeichert." "Your greeting has been saved."
prompt greeting-not-saved \
    "Die Ansage konnte nicht gespeichert werden." \
    "Your greeting could not be saved."

# Number words (src/voicemail/prompts.rs `number_names`): German 0-20, the tens, and the
# "einund".."neunund" parts that go before a ten ("einundzwanzig" = einund + zwanzig); English
# 0-19 and the tens ("twenty one" = twenty + one). Short pads so the parts run together.
de_small=(null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn
    fünfzehn sechzehn siebzehn achtzehn neunzehn zwanzig)
de_tens=([3]=dreißig [4]=vierzig [5]=fünfzig [6]=sechzig [7]=siebzig [8]=achtzig [9]=neunzig)
de_units=([1]=einund [2]=zweiund [3]=dreiund [4]=vierund [5]=fünfund [6]=sechsund [7]=siebenund
    [8]=achtund [9]=neunund)
en_small=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen)
en_tens=([2]=twenty [3]=thirty [4]=forty [5]=fifty [6]=sixty [7]=seventy [8]=eighty [9]=ninety)

for i in "${!de_small[@]}"; do say de "num-$i" 0.03 "${de_small[$i]}"; done
for t in "${!de_tens[@]}"; do say de "num-${t}0" 0.03 "${de_tens[$t]}"; done
for u in "${!de_units[@]}"; do say de "num-$u-und" 0.03 "${de_units[$u]}"; done
for i in "${!en_small[@]}"; do say en "num-$i" 0.03 "${en_small[$i]}"; done
for t in "${!en_tens[@]}"; do say en "num-${t}0" 0.03 "${en_tens[$t]}"; done

echo "make-sounds: $changed file(s) written; $(find sounds -name '*.wav' | wc -l) prompts in sounds/"
