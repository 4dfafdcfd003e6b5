"""The teacher's dashboard: the class's progress, the questions it gets wrong, who is stuck, live view, one learner."""

from workbench.ui.teacher_dashboard import render_teacher_dashboard

render_teacher_dashboard()
