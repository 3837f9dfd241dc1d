// The 4x4 membrane keypad:
//   1 2 3 A      digits: SSN, blood pressure
//   4 5 6 B      * delete, # enter
//   7 8 9 C      A measure/send, B history, C change patient, D back/skip
//   * 0 # D
#pragma once

#include <Keypad.h>

class KeypadInput {
public:
    KeypadInput();
    // The key pressed since the last call, or '\0'.
    char poll();

private:
    Keypad keypad_;
};
