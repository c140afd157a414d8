"""The consultation file: reading and checking it (one line per problem), and the proof-reading tools around it."""
