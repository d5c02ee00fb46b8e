; Lockstep PRG-RAM probe: a tiny NROM program that keeps its state in cartridge RAM ($6000-$7FFF) and holds known
; values in the CPU registers, for the debugger's CPU scope and PRG-RAM memory view.
;
; Build with build.sh (ca65 + ld65, linker config nrom.cfg). Addresses are a contract with prgram.rammap.json and the
; debug adapter's tests.
;
; What it does:
; - Reset: writes the signature "LOCKSTEP" at $6000-$6007 and $5A at $7FFF, zeroes the frame counter at $6010; after
;   two vblanks (the PPU ignores writes before it warms up) writes "LOCKSTEP" to nametable $2000-$2007, $A5 to $2BFF
;   (the fourth nametable, which horizontal mirroring shows at $2FFF too) and palette $3F00-$3F03 = $0F $21 $11 $01;
;   fills OAM through a $4014 DMA of page $0200: sprite 0 = $20 $4C $01 $30 (y, tile, attributes, x), the other 63
;   hidden (y = $FF); then loads A = $12, X = $34, Y = $56 (stack pointer $FF, interrupts off, no NMI) and never changes them again.
; - Then loops at $C000 forever: waits for the vblank flag and adds 1 to the frame counter at $6010. Whenever a frame
;   ends the CPU is somewhere in that loop, so PC is in $C000-$C00A and A, X, Y, SP are as loaded.

signature = $6000       ; "LOCKSTEP", 8 bytes
frames    = $6010       ; +1 per vblank seen
last      = $7FFF       ; $5A: the last byte of PRG-RAM

PPUCTRL   = $2000
PPUMASK   = $2001
PPUSTATUS = $2002
OAMADDR   = $2003
PPUADDR   = $2006
PPUDATA   = $2007
OAMDMA    = $4014
oamPage   = $0200       ; the shadow OAM the DMA copies

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
    ; Two vblanks: the PPU ignores $2006/$2007 writes until it has warmed up.
@vbl1:
    bit PPUSTATUS
    bpl @vbl1
@vbl2:
    bit PPUSTATUS
    bpl @vbl2
    lda #$20
    sta PPUADDR
    lda #$00
    sta PPUADDR
    ldx #0
@nt:
    lda text,x
    sta PPUDATA
    inx
    cpx #8
    bne @nt
    lda #$2B
    sta PPUADDR
    lda #$FF
    sta PPUADDR
    lda #$A5
    sta PPUDATA
    lda #$3F
    sta PPUADDR
    lda #$00
    sta PPUADDR
    ldx #0
@pal:
    lda colours,x
    sta PPUDATA
    inx
    cpx #4
    bne @pal
    lda #0
    sta PPUADDR         ; leave the PPU address at $0000
    sta PPUADDR
    lda #$FF            ; every sprite off screen...
    ldx #0
@hide:
    sta oamPage,x
    inx
    bne @hide
    ldx #3              ; ...but sprite 0
@spr:
    lda sprite0,x
    sta oamPage,x
    dex
    bpl @spr
    lda #0
    sta OAMADDR
    lda #>oamPage
    sta OAMDMA
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
colours:
    .byte $0F, $21, $11, $01
sprite0:
    .byte $20, $4C, $01, $30

.segment "VECTORS"
    .word nmi, reset, irq

.segment "CHARS"
    .res 8192, $00
