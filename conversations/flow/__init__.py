"""The conversation's rules: one pure step per event, each kind of answer, routing on earlier answers, typed words."""
