"""What a lecture shows and marks: the lesson's steps and equations, the worked solution, the
grader. Imports only nnviz.core."""
