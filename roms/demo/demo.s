; Lockstep Catch: a tiny two-player NROM game whose state lives at fixed zero-page addresses for the RAM map.
;
; Build with build.sh (ca65 + ld65, linker config nrom.cfg). The addresses below are a contract with
; demo.rammap.json and README.md: change all three together.

; ---------------------------------------------------------------------------------------------------------------
; Game state (fixed addresses, documented in README.md and demo.rammap.json)
; ---------------------------------------------------------------------------------------------------------------
frame      = $10        ; 16-bit little-endian, +1 every NMI ($10 low, $11 high)
episode    = $12        ; 0 after power-on, +1 at every START restart (wraps at 256)
done       = $13        ; 1 once the timer has run out; play is frozen until START
timer      = $14        ; seconds left, 30 -> 0
timer_sub  = $15        ; frames left in the current second, 60 -> 1 (0 once done)
score_p1   = $16        ; score_p1 and score_p2 must stay adjacent: the catch loop indexes them with X
score_p2   = $17
p1_x       = $18        ; paddle left edge in pixels, 0..PADDLE_MAX_X; p1_x/p2_x adjacent for the same reason
p2_x       = $19
item_x     = $1A        ; item left edge, 0..ITEM_MAX_X
item_y     = $1B        ; item top edge, SPAWN_Y..CATCH_Y
pad1       = $1C        ; raw controller masks: bit0 A, 1 B, 2 Select, 3 Start, 4 Up, 5 Down, 6 Left, 7 Right
pad2       = $1D        ; pad1/pad2 adjacent: the paddle loop indexes them with X
rng        = $1E        ; 16-bit Galois LFSR state, little-endian ($1E low, $1F high); never zero

; Engine scratch (not game state): the NMI/main-loop handshake and the six HUD digit tiles the NMI uploads.
nmi_flag   = $20
hud        = $21        ; p1 tens, p1 ones, timer tens, timer ones, p2 tens, p2 ones

oam        = $0200      ; shadow OAM, copied to the PPU by DMA every vblank

; ---------------------------------------------------------------------------------------------------------------
; Constants
; ---------------------------------------------------------------------------------------------------------------
PPUCTRL    = $2000
PPUMASK    = $2001
PPUSTATUS  = $2002
OAMADDR    = $2003
PPUSCROLL  = $2005
PPUADDR    = $2006
PPUDATA    = $2007
OAMDMA     = $4014
JOY1       = $4016
JOY2       = $4017

CTRL_NMI   = %10000000  ; NMI on; background and sprites both from pattern table $0000; 8x8 sprites
MASK_SHOW  = %00011110  ; background and sprites on, including the leftmost 8 pixels

BTN_START  = %00001000
BTN_LEFT   = %01000000
BTN_RIGHT  = %10000000

SECONDS    = 30
FPS        = 60
PADDLE_W   = 24         ; three 8-pixel sprites
PADDLE_MAX_X = 256 - PADDLE_W
PADDLE_SPEED = 2
PADDLE_Y   = 200        ; top edge of both paddles
P1_START_X = 64
P2_START_X = 168
ITEM_W     = 8
ITEM_MAX_X = 240
SPAWN_Y    = 32
CATCH_Y    = PADDLE_Y - ITEM_W  ; item bottom touches the paddle tops
FALL_SPEED = 2
RNG_SEED   = $ACE1
RNG_TAPS   = $B4        ; x^16 + x^14 + x^13 + x^11 + 1, maximal length

; Tile numbers follow ASCII for the HUD text so the nametable strings read naturally.
TILE_BLANK = $00
TILE_PAD_L = $01
TILE_PAD_M = $02
TILE_PAD_R = $03
TILE_ITEM  = $04
TILE_FLOOR = $05
TILE_0     = $30

HUD_ROW    = $2040      ; nametable row 2
HUD_P1     = HUD_ROW + 5
HUD_TIMER  = HUD_ROW + 15
HUD_P2     = HUD_ROW + 27
FLOOR_ROW  = $2000 + 27 * 32

; ---------------------------------------------------------------------------------------------------------------
.segment "HEADER"
  .byte "NES", $1A
  .byte 1               ; 16 KB PRG (NROM-128)
  .byte 1               ; 8 KB CHR
  .byte $01             ; mapper 0, vertical mirroring (only nametable $2000 is used)
  .byte $00             ; mapper 0, no NES 2.0
  .res 8, $00

; ---------------------------------------------------------------------------------------------------------------
.segment "CODE"

reset:
  sei
  cld
  ldx #$40
  stx $4017             ; APU frame IRQ off
  ldx #$FF
  txs
  inx                   ; X = 0
  stx PPUCTRL           ; no NMI until the game state is ready
  stx PPUMASK
  stx $4010             ; no DMC IRQ
  bit PPUSTATUS         ; clear a stale vblank flag so the first wait is a real one

@vblank1:
  bit PPUSTATUS
  bpl @vblank1

  ; Every run starts from the same RAM whatever the emulator's power-on pattern: that is what makes replays exact.
  lda #0
  tax
@clear_ram:
  sta $0000,x
  sta $0100,x
  sta $0200,x
  sta $0300,x
  sta $0400,x
  sta $0500,x
  sta $0600,x
  sta $0700,x
  inx
  bne @clear_ram

  lda #$FF              ; y = $FF keeps every unused sprite below the screen
@hide_sprites:
  sta oam,x
  inx
  bne @hide_sprites

@vblank2:               ; the PPU accepts writes reliably only after its second vblank
  bit PPUSTATUS
  bpl @vblank2

  jsr load_palette
  jsr draw_static_screen

  lda #<RNG_SEED
  sta rng
  lda #>RNG_SEED
  sta rng+1
  jsr start_episode     ; episode stays 0 for the power-on episode
  jsr build_frame       ; sprites and HUD ready before the first NMI uploads them

@vblank3:               ; switch rendering on at a frame boundary so no torn frame is shown
  bit PPUSTATUS
  bpl @vblank3
  lda #CTRL_NMI
  sta PPUCTRL
  lda #MASK_SHOW
  sta PPUMASK

; One game tick per NMI: the NMI handler only uploads what the previous tick prepared.
main_loop:
  lda #0
  sta nmi_flag
@wait:
  lda nmi_flag
  beq @wait
  jsr read_pads
  jsr update
  jsr build_frame
  jmp main_loop

; ---------------------------------------------------------------------------------------------------------------
; Controllers: strobe once, then eight reads from each port. ROR puts the first bit read (A) in bit 0, so the masks
; match the project's button numbering (A = $01 ... Right = $80).
read_pads:
  lda #1
  sta JOY1
  lda #0
  sta JOY1
  ldx #8
@bit:
  lda JOY1
  lsr a
  ror pad1
  lda JOY2
  lsr a
  ror pad2
  dex
  bne @bit
  rts

; ---------------------------------------------------------------------------------------------------------------
update:
  lda done
  beq @play
  lda pad1              ; frozen: only START on controller 1 matters
  and #BTN_START
  beq @frozen
  inc episode
  jsr start_episode
@frozen:
  rts

@play:
  ldx #1                ; X = player (1 = P2, 0 = P1)
@move_paddle:
  lda pad1,x
  and #BTN_RIGHT
  beq @not_right
  lda p1_x,x
  cmp #PADDLE_MAX_X
  bcs @not_right
  adc #PADDLE_SPEED     ; carry is clear here
  sta p1_x,x
@not_right:
  lda pad1,x
  and #BTN_LEFT
  beq @not_left
  lda p1_x,x
  cmp #PADDLE_SPEED
  bcc @not_left
  sbc #PADDLE_SPEED     ; carry is set here
  sta p1_x,x
@not_left:
  dex
  bpl @move_paddle

  lda item_y
  clc
  adc #FALL_SPEED
  sta item_y
  cmp #CATCH_Y
  bcc @tick_timer

  ; The item reached the paddle row: every paddle overlapping it scores (both can, if they overlap each other).
  ldx #1
@check_catch:
  lda item_x
  sec
  sbc p1_x,x            ; A = item_x - paddle_x (mod 256)
  bcs @item_right_of_edge
  cmp #256 - ITEM_W + 1 ; item starts left of the paddle: it overlaps if it ends past the paddle's left edge
  bcs @caught
  bcc @next_catch
@item_right_of_edge:
  cmp #PADDLE_W
  bcs @next_catch
@caught:
  inc score_p1,x
@next_catch:
  dex
  bpl @check_catch
  jsr spawn_item

@tick_timer:
  dec timer_sub
  bne @done_update
  dec timer
  beq @time_up
  lda #FPS
  sta timer_sub
  rts
@time_up:
  lda #1                ; timer and timer_sub both stay 0 while done
  sta done
@done_update:
  rts

; ---------------------------------------------------------------------------------------------------------------
; Everything a new episode resets; the RNG deliberately carries on so each episode drops a different sequence.
start_episode:
  lda #0
  sta done
  sta score_p1
  sta score_p2
  lda #SECONDS
  sta timer
  lda #FPS
  sta timer_sub
  lda #P1_START_X
  sta p1_x
  lda #P2_START_X
  sta p2_x
  ; fall through

spawn_item:
  ldx #8                ; eight LFSR steps per item so consecutive x values are not shifted copies of each other
@step:
  lsr rng+1
  ror rng
  bcc @no_tap
  lda rng+1
  eor #RNG_TAPS
  sta rng+1
@no_tap:
  dex
  bne @step
  lda rng
  cmp #ITEM_MAX_X + 1
  bcc @x_ok
  and #$7F              ; fold 241..255 into 113..127 rather than rerolling, so spawning takes fixed time
@x_ok:
  sta item_x
  lda #SPAWN_Y
  sta item_y
  rts

; ---------------------------------------------------------------------------------------------------------------
; Shadow OAM and HUD digits for the next NMI. Sprite 0 is the item so it draws in front of the paddles.
build_frame:
  lda done
  beq @item_visible
  lda #$FF              ; hide the item while the game is over
  bne @item_y_ready
@item_visible:
  lda item_y
  sec
  sbc #1                ; the PPU draws a sprite one line below its OAM y
@item_y_ready:
  sta oam+0
  lda #TILE_ITEM
  sta oam+1
  lda #2                ; palette 2
  sta oam+2
  lda item_x
  sta oam+3

  ldy #4                ; OAM offset of P1's first sprite
  lda p1_x
  ldx #0                ; palette 0
  jsr put_paddle
  lda p2_x
  ldx #1                ; palette 1
  jsr put_paddle

  lda score_p1
  ldx #0
  jsr put_digits
  lda timer
  ldx #2
  jsr put_digits
  lda score_p2
  ldx #4
  jsr put_digits
  rts

; A = paddle x, X = palette, Y = OAM offset (advanced by 12).
put_paddle:
  sta oam+3,y
  clc
  adc #8
  sta oam+7,y
  adc #8
  sta oam+11,y
  txa
  sta oam+2,y
  sta oam+6,y
  sta oam+10,y
  lda #PADDLE_Y - 1
  sta oam+0,y
  sta oam+4,y
  sta oam+8,y
  lda #TILE_PAD_L
  sta oam+1,y
  lda #TILE_PAD_M
  sta oam+5,y
  lda #TILE_PAD_R
  sta oam+9,y
  tya
  clc
  adc #12
  tay
  rts

; A = value 0..99, X = offset into hud: writes the tens then the ones digit tile.
put_digits:
  ldy #TILE_0
@tens:
  cmp #10
  bcc @ones
  sbc #10               ; carry is set here
  iny
  bne @tens
@ones:
  sty hud,x
  clc
  adc #TILE_0
  sta hud+1,x
  rts

; ---------------------------------------------------------------------------------------------------------------
load_palette:
  bit PPUSTATUS
  lda #$3F
  sta PPUADDR
  lda #$00
  sta PPUADDR
  ldx #0
@copy:
  lda palette,x
  sta PPUDATA
  inx
  cpx #32
  bne @copy
  rts

; Clears nametable $2000 (tiles and attributes), then writes the HUD labels and the floor.
draw_static_screen:
  bit PPUSTATUS
  lda #$20
  sta PPUADDR
  lda #$00
  sta PPUADDR
  lda #TILE_BLANK
  ldy #4                ; 4 x 256 bytes = the whole 1 KB nametable
  ldx #0
@clear:
  sta PPUDATA
  inx
  bne @clear
  dey
  bne @clear

  ldx #0
@label:
  lda labels,x          ; records: address high, address low, tile; high = 0 ends the list
  beq @floor
  sta PPUADDR
  lda labels+1,x
  sta PPUADDR
  lda labels+2,x
  sta PPUDATA
  inx
  inx
  inx
  bne @label

@floor:
  lda #>FLOOR_ROW
  sta PPUADDR
  lda #<FLOOR_ROW
  sta PPUADDR
  lda #TILE_FLOOR
  ldx #32
@floor_tile:
  sta PPUDATA
  dex
  bne @floor_tile
  rts

; ---------------------------------------------------------------------------------------------------------------
; Vblank: upload sprites and the six HUD digits, then count the frame and release the main loop.
nmi:
  pha
  txa
  pha

  inc frame
  bne @counted
  inc frame+1
@counted:

  lda #0
  sta OAMADDR
  lda #>oam
  sta OAMDMA

  bit PPUSTATUS
  lda #>HUD_P1
  sta PPUADDR
  lda #<HUD_P1
  sta PPUADDR
  lda hud+0
  sta PPUDATA
  lda hud+1
  sta PPUDATA
  lda #>HUD_TIMER
  sta PPUADDR
  lda #<HUD_TIMER
  sta PPUADDR
  lda hud+2
  sta PPUDATA
  lda hud+3
  sta PPUDATA
  lda #>HUD_P2
  sta PPUADDR
  lda #<HUD_P2
  sta PPUADDR
  lda hud+4
  sta PPUDATA
  lda hud+5
  sta PPUDATA

  lda #0                ; PPUADDR writes clobber the scroll: restore it
  sta PPUSCROLL
  sta PPUSCROLL
  lda #CTRL_NMI
  sta PPUCTRL

  lda #1
  sta nmi_flag

  pla
  tax
  pla
  rti

irq:
  rti

; ---------------------------------------------------------------------------------------------------------------
.segment "RODATA"

palette:
  .byte $0F, $30, $10, $00,  $0F, $30, $10, $00,  $0F, $30, $10, $00,  $0F, $30, $10, $00  ; background: white on black
  .byte $0F, $21, $11, $30,  $0F, $27, $17, $30,  $0F, $2A, $1A, $30,  $0F, $30, $10, $00  ; sprites: P1 blue, P2 orange, item green

labels:
  .byte >(HUD_P1 - 3),    <(HUD_P1 - 3),    'P'
  .byte >(HUD_P1 - 2),    <(HUD_P1 - 2),    '1'
  .byte >(HUD_TIMER - 2), <(HUD_TIMER - 2), 'T'
  .byte >(HUD_P2 - 3),    <(HUD_P2 - 3),    'P'
  .byte >(HUD_P2 - 2),    <(HUD_P2 - 2),    '2'
  .byte 0

; ---------------------------------------------------------------------------------------------------------------
.segment "VECTORS"
  .addr nmi, reset, irq

; ---------------------------------------------------------------------------------------------------------------
; CHR: each tile is 8 bytes of plane 0 then 8 of plane 1. Glyphs use colour 1 (plane 0 only); the paddles and the
; item add plane 1 for a highlight. Unused tiles stay blank (ld65 fills the rest of the 8 KB with zeros).
.segment "CHARS"

.macro glyph r0, r1, r2, r3, r4, r5, r6, r7
  .byte r0, r1, r2, r3, r4, r5, r6, r7
  .res 8, $00
.endmacro

; $00 blank
  .res 16, $00
; $01 paddle left end
  .byte %00111111, %01111111, %11111111, %11111111, %11111111, %11111111, %01111111, %00111111
  .byte %00000000, %00111111, %01000000, %00000000, %00000000, %00000000, %00000000, %00000000
; $02 paddle middle
  .byte %11111111, %11111111, %11111111, %11111111, %11111111, %11111111, %11111111, %11111111
  .byte %00000000, %11111111, %00000000, %00000000, %00000000, %00000000, %00000000, %00000000
; $03 paddle right end
  .byte %11111100, %11111110, %11111111, %11111111, %11111111, %11111111, %11111110, %11111100
  .byte %00000000, %11111100, %00000010, %00000000, %00000000, %00000000, %00000000, %00000000
; $04 item (a ball)
  .byte %00111100, %01111110, %11111111, %11111111, %11111111, %11111111, %01111110, %00111100
  .byte %00000000, %00011000, %00100100, %00000000, %00000000, %00000000, %00000000, %00000000
; $05 floor
  glyph %11111111, %10101010, %01010101, %00000000, %00000000, %00000000, %00000000, %00000000

  .res 16 * ($30 - $06), $00

; $30-$39 digits 0-9
  glyph %00111100, %01100110, %01101110, %01110110, %01100110, %01100110, %00111100, %00000000
  glyph %00011000, %00111000, %00011000, %00011000, %00011000, %00011000, %01111110, %00000000
  glyph %00111100, %01100110, %00000110, %00001100, %00110000, %01100000, %01111110, %00000000
  glyph %00111100, %01100110, %00000110, %00011100, %00000110, %01100110, %00111100, %00000000
  glyph %00001100, %00011100, %00101100, %01001100, %01111110, %00001100, %00001100, %00000000
  glyph %01111110, %01100000, %01111100, %00000110, %00000110, %01100110, %00111100, %00000000
  glyph %00111100, %01100000, %01111100, %01100110, %01100110, %01100110, %00111100, %00000000
  glyph %01111110, %00000110, %00001100, %00011000, %00110000, %00110000, %00110000, %00000000
  glyph %00111100, %01100110, %01100110, %00111100, %01100110, %01100110, %00111100, %00000000
  glyph %00111100, %01100110, %01100110, %00111110, %00000110, %00001100, %00111000, %00000000

  .res 16 * ($50 - $3A), $00

; $50 'P'
  glyph %01111100, %01100110, %01100110, %01111100, %01100000, %01100000, %01100000, %00000000
  .res 16 * ($54 - $51), $00
; $54 'T'
  glyph %01111110, %00011000, %00011000, %00011000, %00011000, %00011000, %00011000, %00000000
