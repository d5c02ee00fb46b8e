; Lockstep PRG-RAM probe: a tiny NROM program that keeps its state in cartridge RAM ($6000-$7FFF) and holds known
; values in the CPU registers, for the debugger's CPU scope and PRG-RAM memory view.
;
; Build with build.sh (ca65 + ld65, linker config nrom.cfg). Addresses are a contract with prgram.rammap.json and the
; debug adapter's tests.
;
; What it does:
; - Reset: writes the signature "LOCKSTEP" at $6000-$6007 and $5A at $7FFF, zeroes the frame counter at $6010, then
;   loads A = $12, X = $34, Y = $56 (stack pointer $FF, interrupts off, no NMI) and never changes them again.
; - Then loops at $C000 forever: waits for the vblank flag and adds 1 to the frame counter at $6010. Whenever a frame
;   ends the CPU is somewhere in that loop, so PC is in $C000-$C00A and A, X, Y, SP are as loaded.

signature = $6000       ; "LOCKSTEP", 8 bytes
frames    = $6010       ; +1 per vblank seen
last      = $7FFF       ; $5A: the last byte of PRG-RAM

PPUCTRL   = $2000
PPUMASK   = $2001
PPUSTATUS = $2002

.segment "HEADER"
    .byte "NES", $1A
    .byte 1             ; 16 KB PRG
    .byte 1             ; 8 KB CHR
    .byte $00, $00      ; mapper 0, horizontal mirroring (no battery: nothing is saved to disk)
    .res 8, $00

.segment "CODE"
; First in the segment so that it sits at $C000, where the tests look for PC.
loop:
    bit PPUSTATUS       ; N = vblank flag (reading clears it)
    bpl loop
    inc frames
    jmp loop

reset:
    sei
    cld
    ldx #$FF
    txs
    lda #0
    sta PPUCTRL         ; no NMI: nothing interrupts the loop, so the registers stay as loaded
    sta PPUMASK         ; rendering off
    ldx #7
@sig:
    lda text,x
    sta signature,x
    dex
    bpl @sig
    lda #$5A
    sta last
    lda #0
    sta frames
    lda #$12
    ldx #$34
    ldy #$56
    clc
    jmp loop

nmi:
irq:
    rti

.segment "RODATA"
text:
    .byte "LOCKSTEP"

.segment "VECTORS"
    .word nmi, reset, irq

.segment "CHARS"
    .res 8192, $00
