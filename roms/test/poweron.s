; Lockstep power-on probe: a tiny NROM program that reads work RAM before writing it and leaves lag frames, so a
; recording made on one emulator replays on the other only if both power on with the same RAM and count frames alike.
;
; Build with build.sh (ca65 + ld65, linker config nrom.cfg). Addresses are a contract with poweron.rammap.json.
;
; What it does:
; - Reset, before anything waits for vblank: folds all 2 KB of work RAM as it powered on into ram_xor (XOR of every
;   byte) and then ram_sum (16-bit sum, read after ram_xor was stored), and copies $0000-$000F as found to seen.
; - Waits for two vblanks, turns NMI on and spins in a one-instruction loop, so the NMI always interrupts the same
;   instruction and pushes the same return address (the stack page agrees across emulators too).
; - Every NMI: ticks +1. Only on ticks that are a multiple of 3 it reads controller 1 (the other two frames in three
;   are lag frames) and folds the buttons into state: state = rol(state) xor pad + ram_xor.

ram_xor  = $0300        ; XOR of the 2 KB as powered on
ram_sum  = $0301        ; 16-bit sum of the 2 KB after ram_xor was stored, little-endian ($0301, $0302)
seen     = $0310        ; $0000-$000F as powered on, 16 bytes
ticks    = $0320        ; +1 every NMI
phase    = $0321        ; ticks mod 3: the controller is read when it is 0
pad      = $0322        ; the last buttons read: bit0 A, 1 B, 2 Select, 3 Start, 4 Up, 5 Down, 6 Left, 7 Right
state    = $0323        ; folds every read of the controller: rol, xor pad, + ram_xor
polls    = $0324        ; how many frames read the controller

PPUCTRL   = $2000
PPUMASK   = $2001
PPUSTATUS = $2002
JOY1      = $4016

.segment "HEADER"
    .byte "NES", $1A
    .byte 1             ; 16 KB PRG
    .byte 1             ; 8 KB CHR
    .byte $00, $00      ; mapper 0, horizontal mirroring
    .res 8, $00

.segment "CODE"
reset:
    sei
    cld
    ldx #$FF
    txs
    ; XOR of every work RAM byte, untouched so far (nothing has been written since power-on).
    lda #0
    ldx #0
@xor:
    eor $0000,x
    eor $0100,x
    eor $0200,x
    eor $0300,x
    eor $0400,x
    eor $0500,x
    eor $0600,x
    eor $0700,x
    inx
    bne @xor
    sta ram_xor
    ; Copy the first 16 bytes as found, before anything below writes them.
    ldx #15
@copy:
    lda $0000,x
    sta seen,x
    dex
    bpl @copy
    ; 16-bit sum of the 2 KB (ram_xor and seen included now): low byte in A, high byte in Y.
    lda #0
    tay
    ldx #0
@sum:
    clc
    adc $0000,x
    bcc :+
    iny
:   clc
    adc $0100,x
    bcc :+
    iny
:   clc
    adc $0200,x
    bcc :+
    iny
:   clc
    adc $0300,x
    bcc :+
    iny
:   clc
    adc $0400,x
    bcc :+
    iny
:   clc
    adc $0500,x
    bcc :+
    iny
:   clc
    adc $0600,x
    bcc :+
    iny
:   clc
    adc $0700,x
    bcc :+
    iny
:   inx
    bne @sum
    sta ram_sum
    sty ram_sum+1
    ; Game variables start here; the rest of RAM keeps its power-on contents.
    lda #0
    sta ticks
    sta phase
    sta pad
    sta polls
    lda ram_xor
    sta state
    lda #0
    sta PPUCTRL
    sta PPUMASK
    bit PPUSTATUS
@vblank1:
    bit PPUSTATUS
    bpl @vblank1
@vblank2:
    bit PPUSTATUS
    bpl @vblank2
    lda #%10000000      ; NMI on, rendering stays off
    sta PPUCTRL
forever:
    jmp forever

nmi:
    pha
    inc ticks
    lda phase
    bne @lag
    ; Read controller 1: strobe, then eight serial bits, A first.
    lda #1
    sta JOY1
    lda #0
    sta JOY1
    ldx #8
@bit:
    lda JOY1
    lsr a
    ror pad
    dex
    bne @bit
    inc polls
    lda state
    asl a
    adc #0              ; rol without the carry in: bit 7 comes back as bit 0
    eor pad
    clc
    adc ram_xor
    sta state
    lda #3
    sta phase
@lag:
    dec phase
    pla
    rti

irq:
    rti

.segment "VECTORS"
    .word nmi, reset, irq

.segment "CHARS"
    .res $2000, $00
