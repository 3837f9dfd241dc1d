#include "hal/keypad_input.hpp"

#include "pins.hpp"

namespace {

char keymap[4][4] = {
    {'1', '2', '3', 'A'},
    {'4', '5', '6', 'B'},
    {'7', '8', '9', 'C'},
    {'*', '0', '#', 'D'},
};
byte row_pins[4] = {pins::kKeypadRows[0], pins::kKeypadRows[1], pins::kKeypadRows[2], pins::kKeypadRows[3]};
byte col_pins[4] = {pins::kKeypadCols[0], pins::kKeypadCols[1], pins::kKeypadCols[2], pins::kKeypadCols[3]};

}  // namespace

KeypadInput::KeypadInput() : keypad_(makeKeymap(keymap), row_pins, col_pins, 4, 4) {}

char KeypadInput::poll() {
    const char key = keypad_.getKey();
    return key == NO_KEY ? '\0' : key;
}
