from django.urls import path

from compliance.views import (
    acknowledge,
    dashboard,
    evidence,
    filtering,
    history,
    imports,
    reference,
    relationships,
    retention,
    review,
    subject_access,
)
from compliance.views import community as c

app_name = "compliance"

urlpatterns = [
    path("school/", c.school_detail, name="school"),
    path("school/edit/", c.school_edit, name="school_edit"),
    path("staff/", c.StaffList.as_view(), name="staff_list"),
    path("staff/add/", c.StaffCreate.as_view(), name="staff_add"),
    path("staff/<int:pk>/", c.StaffDetail.as_view(), name="staff_detail"),
    path("staff/<int:pk>/edit/", c.StaffUpdate.as_view(), name="staff_edit"),
    path("staff/<int:pk>/login/", c.staff_login, name="staff_login"),
    path("classes/", c.ClassList.as_view(), name="class_list"),
    path("classes/add/", c.ClassCreate.as_view(), name="class_add"),
    path("classes/<int:pk>/", c.ClassDetail.as_view(), name="class_detail"),
    path("classes/<int:pk>/edit/", c.ClassUpdate.as_view(), name="class_edit"),
    path("learners/", c.LearnerList.as_view(), name="learner_list"),
    path("learners/add/", c.LearnerCreate.as_view(), name="learner_add"),
    path("learners/<int:pk>/", c.LearnerDetail.as_view(), name="learner_detail"),
    path("learners/<int:pk>/edit/", c.LearnerUpdate.as_view(), name="learner_edit"),
    path("parents/", c.ParentList.as_view(), name="parent_list"),
    path("parents/add/", c.ParentCreate.as_view(), name="parent_add"),
    path("parents/<int:pk>/", c.ParentDetail.as_view(), name="parent_detail"),
    path("parents/<int:pk>/edit/", c.ParentUpdate.as_view(), name="parent_edit"),
    path("visitors/", c.VisitorList.as_view(), name="visitor_list"),
    path("visitors/add/", c.VisitorCreate.as_view(), name="visitor_add"),
    path("visitors/<int:pk>/", c.VisitorDetail.as_view(), name="visitor_detail"),
    path("visitors/<int:pk>/edit/", c.VisitorUpdate.as_view(), name="visitor_edit"),
    path("visits/", c.VisitList.as_view(), name="visit_list"),
    path("visits/add/", c.VisitCreate.as_view(), name="visit_add"),
    path("visits/<int:pk>/", c.VisitDetail.as_view(), name="visit_detail"),
    path("visits/<int:pk>/edit/", c.VisitUpdate.as_view(), name="visit_edit"),
    path("import/", imports.import_upload, name="import"),
    path("acknowledge/", acknowledge.acknowledge, name="acknowledge"),
    path("history/<slug:kind>/<int:pk>/", history.record_history, name="history"),
    path("audit/", history.audit, name="audit"),
    path("audit/access/", history.access_log, name="access_log"),
    *evidence.urlpatterns,
    *filtering.urlpatterns,
    *reference.urlpatterns,
    *relationships.urlpatterns,
    *retention.urlpatterns,
    *review.urlpatterns,
    *subject_access.urlpatterns,
]

dashboard_urlpatterns = [path("", dashboard.dashboard, name="dashboard")]
